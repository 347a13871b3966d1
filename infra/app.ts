import { createPulseApp } from './pulse-app.js';

// Credentials are not needed to synth: without CDK_DEFAULT_ACCOUNT/REGION the stacks are environment-agnostic.
const account = process.env.CDK_DEFAULT_ACCOUNT;
const region = process.env.CDK_DEFAULT_REGION;
const { app } = createPulseApp(undefined, account && region ? { account, region } : undefined);
app.synth();
