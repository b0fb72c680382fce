/**
 * Which system wrote a database file, decided from its tables and columns alone: one adapter
 * per system, LaForge's first (any `steps` table is LaForge's).
 */
import * as l10n from '@vscode/l10n';
import { StepDbError } from '../errors';
import { constellationAdapter } from './constellation';
import { laforgeAdapter } from './laforge';
import { llmOrchestrationAdapter } from './llmOrchestration';
import { STUDIO_SIBLINGS, studioAdapter } from './studio';
import { SYSTEM_NAMES, type Detection, type SchemaShape, type SourceAdapter } from './types';
import { failures } from '../messages';

/** Every system's adapter, tried in this order. */
export const ADAPTERS: readonly SourceAdapter[] = [laforgeAdapter, constellationAdapter, studioAdapter, llmOrchestrationAdapter];

/** The files beside a database its source also reads (a checkpoints.db beside an orchestrator.db): a change to them is a change to it. */
export function siblingFiles(detection: Detection): readonly string[] {
  return detection.system === 'studio' ? (STUDIO_SIBLINGS[detection.variant] ?? []) : [];
}

/** The adapter that reads a file of this shape, and what it found; undefined when none does. */
export function detectSource(shape: SchemaShape, adapters: readonly SourceAdapter[] = ADAPTERS): { adapter: SourceAdapter; detection: Detection } | undefined {
  for (const adapter of adapters) {
    const detection = adapter.detect(shape);
    if (detection) return { adapter, detection };
  }
  return undefined;
}

/** A SQLite file no system's reader recognizes: which systems were checked, and what the file holds. */
export function unknownSchemaError(dbPath: string, shape: SchemaShape): StepDbError {
  const names = Object.values(SYSTEM_NAMES);
  const systems = l10n.t('{0} or {1}', names.slice(0, -1).join(', '), names[names.length - 1]);
  const tables = [...shape.tables.keys()].filter((t) => !t.startsWith('sqlite_'));
  const holds =
    tables.length === 0
      ? l10n.t('it has no tables')
      : tables.length > 12
        ? l10n.t('its tables are {0} and {1} more', tables.slice(0, 12).join(', '), tables.length - 12)
        : l10n.t('its tables are {0}', tables.join(', '));
  return failures.unknownSchema(
    { path: dbPath, systems, holds },
    [...shape.tables].map(([t, cols]) => `${t}(${[...cols].join(', ')})`).join('; ') || 'no tables',
  );
}
