// Placeholder so the CDK app synthesises before the real handler lands; its owner replaces this file.
export const handler = async (): Promise<never> => {
  throw new Error('not deployed yet');
};
