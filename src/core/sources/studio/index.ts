/**
 * Autonomous Software Studio as a Step History source. Four kinds of file:
 *   - 'documented': the schema its design documents describe (sessions, agent_executions,
 *     artifacts, checkpoints, audit_log, …) in a SQLite development copy, with the artifacts'
 *     files under each session's work_dir;
 *   - 'orchestrator': the `data/orchestrator.db` the app really writes (a `sessions` table
 *     without `metadata`), read with the `checkpoints.db` beside it when there is one;
 *   - 'checkpoints-fallback' / 'checkpoints-langgraph': a bare LangGraph `checkpoints.db`, as
 *     the studio's fallback saver or langgraph-checkpoint-sqlite writes it.
 */
import type { Detection, HistorySource, SchemaShape, SourceAdapter, SourceContext, SqlReader } from '../types';
import { checkpointShapeOf } from './checkpoints';
import { StudioDocumentedSource } from './documented';
import { StudioRealSource } from './real';

export { STUDIO_SIBLINGS } from './context';

const hasAll = (cols: ReadonlySet<string> | undefined, names: string[]): boolean => !!cols && names.every((n) => cols.has(n));

export function detectStudio(shape: SchemaShape): Detection | null {
  const t = shape.tables;
  const sessions = t.get('sessions');
  const sessionCols = ['session_id', 'user_mission', 'current_phase', 'status'];
  if (hasAll(sessions, sessionCols)) {
    if (hasAll(t.get('agent_executions'), ['session_id', 'agent_type'])) return { system: 'studio', variant: 'documented' };
    if (!t.has('agent_executions') && !sessions?.has('metadata') && sessions?.has('state_json')) return { system: 'studio', variant: 'orchestrator' };
    return null;
  }
  if (sessions) return null;
  const shapeOf = checkpointShapeOf(t.get('checkpoints'));
  if (shapeOf && !t.has('steps')) return { system: 'studio', variant: shapeOf === 'fallback' ? 'checkpoints-fallback' : 'checkpoints-langgraph' };
  return null;
}

export const studioAdapter: SourceAdapter = {
  system: 'studio',
  detect: detectStudio,
  open(reader: SqlReader, detection: Detection, context: SourceContext): HistorySource {
    if (detection.variant === 'documented') return new StudioDocumentedSource(reader, detection, context);
    return new StudioRealSource(reader, detection, context);
  },
};
