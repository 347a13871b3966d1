import { dirname, join } from 'node:path';
import ts from 'typescript';

/**
 * The AWS SDK commands a function's code can issue, derived from the code itself: a call graph from the handler's
 * module through the project's sources (not node_modules), resolved with the TypeScript checker. A call through a
 * port interface (e.g. `EventStore.putEvents`) reaches the implementing classes that the same function constructs,
 * so a function only "issues" what the adapters it builds can do on the paths it calls. Each command is attributed
 * to the innermost adapter class (shared/adapters/…) it is issued from: that says which table it touches. Abstract
 * base classes and the table-agnostic helpers named in `helperClasses` (e.g. `DynamoTable`, which any adapter wraps
 * around its own table) claim nothing: their commands belong to the adapter that calls them.
 */
export interface SdkCommand {
  /** `@aws-sdk/client-…` package, e.g. `client-dynamodb`. */
  client: string;
  /** e.g. `QueryCommand`. */
  command: string;
  /** Adapter class the command is issued from, e.g. `DynamoEventStore`, or undefined outside adapters. */
  adapter: string | undefined;
}

/** Statements that only declare: importing their module runs none of their code. */
const DECLARATION_ONLY: ReadonlySet<ts.SyntaxKind> = new Set([
  ts.SyntaxKind.FunctionDeclaration,
  ts.SyntaxKind.ClassDeclaration,
  ts.SyntaxKind.InterfaceDeclaration,
  ts.SyntaxKind.TypeAliasDeclaration,
  ts.SyntaxKind.ImportDeclaration,
  ts.SyntaxKind.ExportDeclaration,
]);

export class SdkCommandScanner {
  private readonly program: ts.Program;
  private readonly checker: ts.TypeChecker;

  constructor(
    private readonly projectRoot: string,
    entries: readonly string[],
    private readonly helperClasses: readonly string[] = [],
  ) {
    const config = ts.readConfigFile(join(projectRoot, 'tsconfig.json'), ts.sys.readFile);
    const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, projectRoot);
    this.program = ts.createProgram({ rootNames: entries.map((e) => join(projectRoot, e)), options: parsed.options });
    this.checker = this.program.getTypeChecker();
  }

  /** Every command reachable from the module `entry` (relative to the project root), deduplicated. */
  commandsOf(entry: string): SdkCommand[] {
    const source = this.program.getSourceFile(join(this.projectRoot, entry));
    if (!source) throw new Error(`${entry} is not part of the program`);
    return new Walk(this.checker, this.projectRoot, new Set(this.helperClasses)).run(source);
  }
}

class Walk {
  private readonly found = new Map<string, SdkCommand>();
  private readonly visited = new Set<string>();
  private readonly modules = new Set<ts.SourceFile>();
  private readonly classes = new Set<ts.ClassDeclaration>();
  /** Interface members called so far, with the adapter context of the call. */
  private readonly called: { member: ts.TypeElement; adapter: string | undefined }[] = [];
  private readonly queue: { node: ts.Node; adapter: string | undefined }[] = [];

  constructor(
    private readonly checker: ts.TypeChecker,
    private readonly projectRoot: string,
    private readonly helperClasses: ReadonlySet<string>,
  ) {}

  /** The adapter a class's code acts for: itself if it is a concrete adapter class, else whoever called it. */
  private ownerOf(cls: ts.Node | undefined, caller: string | undefined): string | undefined {
    if (!cls || !ts.isClassDeclaration(cls) || !cls.name) return caller;
    if (!cls.getSourceFile().fileName.includes('/shared/adapters/')) return caller;
    const abstract = cls.modifiers?.some((m) => m.kind === ts.SyntaxKind.AbstractKeyword) ?? false;
    return abstract || this.helperClasses.has(cls.name.text) ? caller : cls.name.text;
  }

  run(entry: ts.SourceFile): SdkCommand[] {
    this.reachModule(entry);
    while (this.queue.length > 0) {
      const { node, adapter } = this.queue.shift()!;
      this.walk(node, adapter);
    }
    return [...this.found.values()].sort((a, b) =>
      `${a.client}${a.command}${a.adapter}`.localeCompare(`${b.client}${b.command}${b.adapter}`),
    );
  }

  private isProject(node: ts.Node): boolean {
    const file = node.getSourceFile();
    return (
      !file.isDeclarationFile && !file.fileName.includes('/node_modules/') && file.fileName.startsWith(this.projectRoot)
    );
  }

  private enqueue(node: ts.Node, adapter: string | undefined): void {
    const key = `${node.getSourceFile().fileName}:${node.pos}:${node.kind}|${adapter ?? ''}`;
    if (this.visited.has(key)) return;
    this.visited.add(key);
    this.queue.push({ node, adapter });
  }

  /** A module's initialisation runs when it is imported: its top-level statements other than declarations. */
  private reachModule(file: ts.SourceFile): void {
    if (this.modules.has(file)) return;
    this.modules.add(file);
    for (const statement of file.statements) {
      if (DECLARATION_ONLY.has(statement.kind)) continue;
      if (ts.isVariableStatement(statement)) {
        for (const d of statement.declarationList.declarations)
          if (d.initializer && !isFunctionExpression(d.initializer)) this.enqueue(d.initializer, undefined);
        continue;
      }
      this.enqueue(statement, undefined);
    }
  }

  private walk(node: ts.Node, adapter: string | undefined): void {
    const visit = (n: ts.Node): void => {
      if (ts.isIdentifier(n) || ts.isPrivateIdentifier(n)) this.resolve(n, adapter);
      ts.forEachChild(n, visit);
    };
    if (isFunctionLike(node)) {
      if (node.body) visit(node.body);
      for (const p of node.parameters) if (p.initializer) visit(p.initializer);
    } else visit(node);
  }

  private resolve(id: ts.Identifier | ts.PrivateIdentifier, adapter: string | undefined): void {
    let symbol = this.checker.getSymbolAtLocation(id);
    if (!symbol && ts.isShorthandPropertyAssignment(id.parent))
      symbol = this.checker.getShorthandAssignmentValueSymbol(id.parent);
    if (!symbol) return;
    if (symbol.flags & ts.SymbolFlags.Alias) symbol = this.checker.getAliasedSymbol(symbol);
    for (const decl of symbol.declarations ?? []) {
      const file = decl.getSourceFile().fileName;
      const sdk = /\/node_modules\/@aws-sdk\/(client-[a-z0-9-]+)\//.exec(file);
      if (sdk) {
        if (ts.isNewExpression(id.parent) && id.parent.expression === id && symbol.name.endsWith('Command'))
          this.found.set(`${sdk[1]}:${symbol.name}:${adapter}`, { client: sdk[1]!, command: symbol.name, adapter });
        continue;
      }
      if (!this.isProject(decl)) continue;
      this.reachModule(decl.getSourceFile());
      this.reach(decl, adapter);
    }
  }

  private reach(decl: ts.Declaration, adapter: string | undefined): void {
    const own = (member: ts.Node) => this.ownerOf(member.parent, adapter);
    if (ts.isClassDeclaration(decl)) {
      if (!this.classes.has(decl)) {
        this.classes.add(decl);
        for (const { member, adapter: a } of this.called) this.dispatch(decl, member, a);
      }
      for (const m of decl.members)
        if (ts.isConstructorDeclaration(m) || (ts.isPropertyDeclaration(m) && m.initializer))
          this.enqueue(ts.isPropertyDeclaration(m) ? m.initializer! : m, own(m));
      return;
    }
    if (ts.isMethodSignature(decl) || ts.isPropertySignature(decl)) {
      if (ts.isInterfaceDeclaration(decl.parent)) {
        this.called.push({ member: decl, adapter });
        for (const cls of this.classes) this.dispatch(cls, decl, adapter);
      }
      return;
    }
    if (isFunctionLike(decl)) this.enqueue(decl, own(decl));
    else if ((ts.isVariableDeclaration(decl) || ts.isPropertyDeclaration(decl)) && decl.initializer)
      this.enqueue(decl.initializer, own(decl));
  }

  /** A call of an interface member reaches the same-named member of a constructed class implementing it. */
  private dispatch(cls: ts.ClassDeclaration, member: ts.TypeElement, adapter: string | undefined): void {
    const iface = member.parent as ts.InterfaceDeclaration;
    if (!this.implementsInterface(cls, iface)) return;
    const name = member.name && ts.isIdentifier(member.name) ? member.name.text : undefined;
    for (const m of cls.members) {
      if (!m.name || !ts.isIdentifier(m.name) || m.name.text !== name) continue;
      const target = ts.isPropertyDeclaration(m) ? m.initializer : m;
      const owner = this.ownerOf(cls, adapter);
      if (target) this.enqueue(target, owner);
    }
  }

  private implementsInterface(cls: ts.ClassDeclaration, iface: ts.InterfaceDeclaration): boolean {
    const seen = new Set<ts.Node>();
    const matches = (types: readonly ts.ExpressionWithTypeArguments[]): boolean =>
      types.some((t) => {
        let symbol = this.checker.getSymbolAtLocation(t.expression);
        if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = this.checker.getAliasedSymbol(symbol);
        return (symbol?.declarations ?? []).some((d) => {
          if (d === iface) return true;
          if (!ts.isInterfaceDeclaration(d) || seen.has(d)) return false;
          seen.add(d);
          return matches(d.heritageClauses?.flatMap((h) => [...h.types]) ?? []);
        });
      });
    return matches(cls.heritageClauses?.flatMap((h) => [...h.types]) ?? []);
  }
}

function isFunctionExpression(node: ts.Node): boolean {
  return ts.isArrowFunction(node) || ts.isFunctionExpression(node);
}

/** A function that may have a body to walk (ts.isFunctionLike would also admit signatures and function types). */
function isFunctionLike(node: ts.Node): node is ts.FunctionLikeDeclaration {
  return FUNCTION_LIKE.some((is) => is(node));
}

const FUNCTION_LIKE: ((node: ts.Node) => boolean)[] = [
  ts.isFunctionDeclaration,
  ts.isMethodDeclaration,
  ts.isConstructorDeclaration,
  ts.isGetAccessorDeclaration,
  ts.isSetAccessorDeclaration,
  ts.isArrowFunction,
  ts.isFunctionExpression,
];

export const PROJECT_DIR = join(dirname(new URL(import.meta.url).pathname), '..', '..');
