// The region and credentials every client of the test moto server uses. moto accepts any
// credentials; fixed ones keep all clients in its one default account. Kept apart from
// moto.ts so test files can read them without loading the AWS SDK.
export const MOTO_REGION = 'us-east-1';
export const MOTO_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };
