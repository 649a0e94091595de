export { loadConfig, type Config, type Environment } from './load-config.js';
export { ConfigError, exitOnConfigError } from './config-error.js';
export { keyRingOf, requireKeyRings, type KeyRingVariable } from './key-rings.js';
export { loadConfigWithSecrets, resolveSecretSources } from './secret-sources.js';
export { configReference, configReferenceMarkdown, type VariableReference } from './reference.js';
export { variables, secretVariables, DEVELOPMENT_SESSION_SECRET, type VariableName } from './variables.js';
export {
  SESSION_PHASES,
  DEFAULT_RETIRING_TTL_SECONDS,
  LEGACY_STORE_VARIABLES,
  areAdjacent,
  compatiblePositions,
  nextPosition,
  phaseLabel,
  phaseValues,
  positionFromLegacy,
  previousPosition,
  samePosition,
  sessionPhaseInfo,
  sessionPhaseTable,
  settingsOfPhase,
  stepOf,
  type DerivedStoreSettings,
  type PhasePosition,
  type SessionPhase,
  type SessionPhaseInfo,
  type StoreName,
} from './session-phase.js';
export {
  judgeStep,
  nextStepSentence,
  stepToward,
  type CutoverEvidence,
  type LiveRelease,
  type StepVerdict,
} from './cutover-gate.js';
