// TOTP lives in @portcullis/crypto (one implementation for the services and the CLI); this
// module keeps the libraries' import path.
export { createTotp, TOTP_PERIOD_SECONDS, type Totp } from '@portcullis/crypto';
