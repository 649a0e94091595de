export { loadConfig, ConfigError, exitOnConfigError, keyRingOf, type Config, type Environment, type KeyRingVariable } from './load-config.js';
export { loadConfigWithSecrets, resolveSecretSources } from './secret-sources.js';
export { configReference, configReferenceMarkdown, type VariableReference } from './reference.js';
export { variables, secretVariables, DEVELOPMENT_SESSION_SECRET, type VariableName } from './variables.js';
