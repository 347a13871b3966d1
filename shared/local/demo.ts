import type { LocalStack } from './stack.js';
export async function runDemo(_stack: LocalStack, _o: { writeKey: string; log: (l: string) => void }): Promise<string> {
  return 'todo';
}
