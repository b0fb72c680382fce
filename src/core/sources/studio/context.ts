/** The files beside an Autonomous Software Studio database that each of its variants reads. */

/** For 'orchestrator', the `checkpoints.db` LangGraph writes in the same folder. */
export const STUDIO_SIBLINGS: Readonly<Record<string, readonly string[]>> = { orchestrator: ['checkpoints.db'] };
