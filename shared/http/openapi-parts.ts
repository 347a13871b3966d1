import type { z } from '@hono/zod-openapi';
import { ProblemSchema } from './api-schemas.js';

/** The pieces every scores API route contract is built from (docs/api.md), so the route files state each once. */

export const JSON_TYPE = 'application/json';

/** A JSON response. */
export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { [JSON_TYPE]: { schema } },
});

/** A required JSON request body. */
export const jsonBody = <T extends z.ZodType>(schema: T) => ({ required: true, content: { [JSON_TYPE]: { schema } } });

/** A problem response (docs/api.md#errors). */
export const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ProblemSchema } },
});

/** What any authenticated route may answer. */
export const problems = {
  400: problem('A parameter is not valid; errors[] names it.'),
  401: problem('Missing or wrong credentials.'),
} as const;

/** Every route needs credentials (the gateway's IAM or JWT authorizer in AWS, the API token locally). */
export const security = [{ bearer: [] }];
