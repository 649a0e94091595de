// The harness lives in test/support/admin-harness.ts (shared by every service's tests). This
// re-export stays only while services/cli/test/drill.test.ts imports it from here.
export * from '../../../test/support/admin-harness.js';
