/**
 * Events a second one run worker streams from DynamoDB Query pages through the engine: a conservative round figure
 * below what `npm run bench` measures (~500k), used to plan a run's fan-out (fan-out.ts) and by the cost model
 * (infra/cost/estimate.ts), which derives from it rather than restating it.
 */
export const WORKER_EVENTS_PER_SECOND = 50_000;
