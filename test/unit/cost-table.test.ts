import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { costTableMarkdown, DOC_VOLUMES } from '../../infra/cost/table.js';
import { runPulseCli } from '../support/cli.js';

async function cli(...args: string[]) {
  const { code, out, err } = await runPulseCli(args, {}, process.cwd());
  return { code, stdout: out, stderr: err };
}

const operations = readFileSync(join(import.meta.dirname, '../../docs/operations.md'), 'utf8');

describe('the cost table in docs/operations.md', () => {
  it('is what pulse cost --markdown prints (regenerate it with that command when the model changes)', async () => {
    // Act
    const { stdout, code } = await cli('cost', '--events-per-month', '1', '--entities', '1000000', '--markdown');

    // Assert
    expect(code).toBe(0);
    expect(stdout).toBe(costTableMarkdown({ entities: 1_000_000 }, DOC_VOLUMES));
    expect(operations).toContain(stdout);
  });

  it('states the per-million figure at 100M events that the table holds', () => {
    // Act
    const table = costTableMarkdown({ entities: 1_000_000 }, DOC_VOLUMES);
    const perMillion = /\*\*per million events\*\*.*/
      .exec(table)![0]
      .split('|')
      .map((c) => c.trim());

    // Assert: columns 1M, 10M, 100M, 1B.
    expect(operations).toContain(`**$8.48 to ${perMillion[3]!.replaceAll('*', '')} per million events**`);
  });
});

describe('pulse cost flags of the cheaper-writes model', () => {
  it('compares the design before and now line by line, the duplicate reads gone', async () => {
    // Act
    const { stdout, code } = await cli('cost', '--events-per-month', '100000000', '--entities', '1000000', '--compare');

    // Assert
    expect(code).toBe(0);
    expect(stdout).toMatch(/duplicate checks at ingest\s+12\.50\s+0\.0000/);
    expect(stdout).toMatch(/per million events\s+8\.48\s+2\.78/);
  });

  it('takes the account and history change shares, and refuses shares outside 0..1 naming the flag', async () => {
    // Act
    const fewer = await cli('cost', '--events-per-month', '100000000', '--entities', '1000000', '--account-share', '0');
    const bad = await cli('cost', '--events-per-month', '10', '--entities', '10', '--history-change-share', '1.5');

    // Assert
    expect(fewer.stdout).toMatch(/event writes\s+100,000,000/);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--history-change-share must be a number from 0 to 1');
  });
});
