/**
 * The one place a failure's sentence is made: every typed error of Step History comes from a
 * maker here (`throw failures.databaseMissing({ path })`), which picks its class and code and
 * makes its sentence from its facts through `@vscode/l10n`. What a user can do about it is
 * chosen from the code (core/remedies.ts); how it is shown, by the editor (ui/showError.ts).
 *
 * An error made where no l10n bundle is loaded (the store worker) carries its maker's name and
 * its facts, so the extension host makes its sentence again in the user's language (`remake`).
 */
import type { Facts, MadeError } from '../errors';
import { database } from './database';
import { gitFailures } from './git';
import { rollbackFailures } from './rollback';

type Maker = (facts: never, more?: never) => Error & MadeError;

function named<T extends Record<string, Maker>>(section: T): T {
  const out = {} as Record<string, Maker>;
  for (const [name, make] of Object.entries(section)) {
    out[name] = ((facts: never, more?: never) => {
      const err = make(facts, more);
      err.messageId = name;
      return err;
    }) as Maker;
  }
  return out as T;
}

export const failures = named({ ...database, ...gitFailures, ...rollbackFailures });

export type FailureName = keyof typeof failures;

/**
 * The error a maker of `failures` made from `messageId` and `facts`, made again here (in this
 * thread's language), with `detail`; undefined for a name no maker has.
 */
export function remake(messageId: string, facts: Facts, detail?: string): (Error & MadeError) | undefined {
  // Only a database failure crosses from the worker; the others' makers take more than a detail.
  if (!Object.prototype.hasOwnProperty.call(database, messageId)) return undefined;
  const make = failures[messageId as FailureName] as unknown as (facts: Facts, detail?: string) => Error & MadeError;
  return make(facts, detail);
}
