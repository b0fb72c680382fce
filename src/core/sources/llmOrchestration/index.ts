/**
 * LLM Orchestration (weezywitasneezy/llm-orchestration-v1): `data/llm_orchestration.db` and
 * its whole-file copies in `data/backups/`, read as the app's code writes them (variant
 * `written`). The tree is workflow → run → response; a response is a step. See ./source.ts
 * for the ordering, orphan and metric rules.
 */
import { StepDbError } from '../../errors';
import type { Detection, SchemaShape, SourceAdapter, SqlReader } from '../types';
import { LlmOrchestrationSource } from './source';
import { failures } from '../../messages';

export { DELETED_RUN_LABEL, DELETED_RUN_REF, DELETED_WORKFLOW_LABEL, DELETED_WORKFLOW_REF, DETAILS_TEXT_LIMIT, deletedRunRef, LEVELS, LlmOrchestrationSource, parseRef, TEXT_LIMIT } from './source';
export { mapRunStatus } from './parse';

/** The tables and columns the adapter reads; config/database.js creates them all on every start. */
export const REQUIRED_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  workflows: ['id', 'name', 'created_at', 'updated_at'],
  runs: ['id', 'workflow_id', 'status', 'started_at', 'completed_at', 'metadata'],
  responses: ['id', 'run_id', 'payload_id', 'content', 'metadata', 'created_at'],
  payloads: ['id', 'name'],
  workflow_payloads: ['workflow_id', 'payload_id', 'order_index'],
  blocks: ['id', 'title', 'tags'],
};

function missing(columnsOf: (table: string) => ReadonlySet<string> | undefined): string[] {
  const gaps: string[] = [];
  for (const [table, columns] of Object.entries(REQUIRED_COLUMNS)) {
    const have = columnsOf(table);
    if (!have) gaps.push(`table ${table}`);
    else for (const c of columns) if (!have.has(c)) gaps.push(`${table}.${c}`);
  }
  return gaps;
}

export const llmOrchestrationAdapter: SourceAdapter = {
  system: 'llmOrchestration',

  detect(shape: SchemaShape): Detection | null {
    if (missing((t) => shape.tables.get(t)).length) return null;
    return { system: 'llmOrchestration', variant: 'written' };
  },

  open(reader: SqlReader, detection: Detection) {
    let gaps: string[];
    try {
      gaps = missing((table) => {
        const rows = reader.all('SELECT lower(name) AS name FROM pragma_table_info(?)', [table]);
        return rows.length ? new Set(rows.map((r) => String(r.name))) : undefined;
      });
    } catch (err) {
      if (err instanceof StepDbError) throw err;
      throw failures.llmoTablesUnreadable({}, String(err));
    }
    if (gaps.length) {
      throw failures.llmoTablesMissing({}, `missing: ${gaps.join(', ')}`);
    }
    return new LlmOrchestrationSource(detection, reader);
  },
};
