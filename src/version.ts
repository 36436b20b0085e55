/** The release this build is: shown by `tresor version`, `sys/health` and the server banner. No imports, so the CLI can read it cheaply. */
export const VERSION = '1.17.0+tresor';
export const BUILD_DATE = '2026-11-25T00:00:00Z';
