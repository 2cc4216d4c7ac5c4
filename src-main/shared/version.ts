/** The version reported by the CLI, the engine's control protocol and the app. */
export const VERSION = '0.1.0';
