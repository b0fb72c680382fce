import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';

/**
 * Every user-facing string package.json contributes is a `%key%` placeholder whose English
 * text is in package.nls.json, as in VS Code's own extensions, so that a translation
 * (package.nls.<locale>.json) covers all of it.
 */

const root = path.resolve(__dirname, '..', '..');

/** VS Code replaces a manifest string with its package.nls.json entry only when the whole string is one placeholder of this form. */
const PLACEHOLDER = /^%([\w.-]+)%$/;

/** Top-level manifest properties the user reads (the Extensions view, the Marketplace). */
const TOP_LEVEL_USER_FACING = ['displayName', 'description'] as const;

/**
 * Property names whose strings the user reads, wherever they appear under `contributes` (and
 * `capabilities`): command titles and categories, view and view container names, welcome
 * content, configuration titles and every kind of setting description, and the labels of the
 * contribution points this extension does not use yet (submenus, walkthroughs, colors, icons…).
 */
const USER_FACING = new Set([
  'title',
  'shortTitle',
  'category',
  'name',
  'contextualTitle',
  'contents',
  'description',
  'markdownDescription',
  'enumDescriptions',
  'markdownEnumDescriptions',
  'deprecationMessage',
  'markdownDeprecationMessage',
  'errorMessage',
  'patternErrorMessage',
  'label',
  'tooltip',
  'displayName',
  'altText',
]);

/** Property names whose strings are identifiers, expressions or paths, never shown as text. */
const NOT_USER_FACING = new Set([
  'command',
  'id',
  'view',
  'when',
  'enablement',
  'group',
  'icon',
  'light',
  'dark',
  'highContrast',
  'highContrastLight',
  'type',
  'scope',
  'format',
  'pattern',
  'submenu',
  'media',
  'image',
  'markdown',
  'completionEvents',
  // capabilities.untrustedWorkspaces
  'supported',
  'restrictedConfigurations',
]);

/** Values, not labels: a setting's default and its allowed values are what is stored, in any language. */
const SKIPPED = new Set(['default', 'enum', 'examples', 'const']);

type NlsEntry = string | { message: string; comment?: string[] };
type NlsFile = Record<string, NlsEntry>;

interface Findings {
  /** User-facing strings that are not a placeholder: `path = "text"`. */
  literal: string[];
  /** Strings under a property neither list names: decide which list it belongs to. */
  unclassified: string[];
  /** Placeholders with no package.nls.json entry. */
  missing: string[];
  /** package.nls.json keys no placeholder uses. */
  unused: string[];
  /** How many user-facing strings were checked. */
  checked: number;
}

function nlsText(entry: NlsEntry): string {
  return typeof entry === 'string' ? entry : entry.message;
}

/** The manifest with each `%key%` replaced by its English text from package.nls.json, as VS Code shows it. */
function resolveManifest<T>(manifest: T, nls: NlsFile): T {
  return JSON.parse(JSON.stringify(manifest), (_key, value: unknown) => {
    if (typeof value !== 'string') return value;
    const m = PLACEHOLDER.exec(value);
    if (!m) return value;
    const entry = nls[m[1]];
    if (entry === undefined) throw new Error(`${value} has no entry in package.nls.json`);
    return nlsText(entry);
  }) as T;
}

function check(manifest: Record<string, unknown>, nls: NlsFile): Findings {
  const findings: Findings = { literal: [], unclassified: [], missing: [], unused: [], checked: 0 };

  const userFacing = (where: string, value: unknown) => {
    if (typeof value !== 'string') return;
    findings.checked++;
    if (!PLACEHOLDER.test(value)) findings.literal.push(`${where} = ${JSON.stringify(value)}`);
  };

  // `property` is the name of the nearest object property above `value` (an array's elements share its name).
  const walk = (value: unknown, where: string, property: string | undefined) => {
    if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, `${where}[${i}]`, property));
    } else if (value !== null && typeof value === 'object') {
      for (const [key, v] of Object.entries(value)) {
        if (!SKIPPED.has(key)) walk(v, `${where}.${key}`, key);
      }
    } else if (typeof value === 'string' && property !== undefined) {
      if (USER_FACING.has(property)) userFacing(where, value);
      else if (!NOT_USER_FACING.has(property)) findings.unclassified.push(`${where} = ${JSON.stringify(value)}`);
    }
  };

  for (const key of TOP_LEVEL_USER_FACING) userFacing(key, manifest[key]);
  walk(manifest.contributes, 'contributes', undefined);
  walk(manifest.capabilities, 'capabilities', undefined);

  // Every placeholder anywhere in the manifest, user-facing or not, needs its entry.
  const used = new Set<string>();
  const collect = (value: unknown, where: string) => {
    if (Array.isArray(value)) value.forEach((v, i) => collect(v, `${where}[${i}]`));
    else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) collect(v, where ? `${where}.${k}` : k);
    else if (typeof value === 'string') {
      const m = PLACEHOLDER.exec(value);
      if (!m) return;
      used.add(m[1]);
      if (!Object.prototype.hasOwnProperty.call(nls, m[1])) findings.missing.push(`${where} = ${value}`);
    }
  };
  collect(manifest, '');
  findings.unused = Object.keys(nls).filter((k) => !used.has(k));
  return findings;
}

function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(path.join(root, file), 'utf8')) as T;
}

describe('localisable contributions (package.nls.json)', () => {
  const manifest = readJson<Record<string, unknown>>('package.json');
  const nls = readJson<NlsFile>('package.nls.json');
  const findings = check(manifest, nls);

  it('writes every user-facing string of package.json as a %key% placeholder', () => {
    assert.ok(findings.checked >= 40, `only ${findings.checked} user-facing strings were found; is the walk still reaching contributes?`);
    assert.deepStrictEqual(findings.literal, [], 'these strings bypass package.nls.json; move their text there and write "%key%" instead');
  });

  it('knows whether each string under contributes is user-facing', () => {
    assert.deepStrictEqual(
      findings.unclassified,
      [],
      'add these properties to USER_FACING (and write them as %key%) or to NOT_USER_FACING in this test',
    );
  });

  it('has a package.nls.json entry for every placeholder', () => {
    assert.deepStrictEqual(findings.missing, [], 'these placeholders have no entry in package.nls.json');
  });

  it('has no package.nls.json entry that nothing uses', () => {
    assert.deepStrictEqual(findings.unused, [], 'these package.nls.json keys are used by no placeholder in package.json');
  });

  it('gives every entry English text', () => {
    const empty = Object.entries(nls).filter(([, entry]) => typeof nlsText(entry) !== 'string' || nlsText(entry).trim() === '');
    assert.deepStrictEqual(empty.map(([k]) => k), []);
  });

  it('resolves to the English the palette shows', () => {
    const resolved = resolveManifest(manifest, nls) as { displayName: string; contributes: { commands: { command: string; title: string; category: string }[] } };
    assert.strictEqual(resolved.displayName, 'Step History');
    const showLog = resolved.contributes.commands.find((c) => c.command === 'stepHistory.showLog');
    assert.strictEqual(showLog && `${showLog.category}: ${showLog.title}`, 'Step History: Show Log');
  });

  it('is packaged: .vscodeignore keeps package.nls.json in the VSIX', () => {
    const ignore = fs.readFileSync(path.join(root, '.vscodeignore'), 'utf8').split('\n').map((l) => l.trim());
    assert.ok(ignore.includes('!package.nls.json'), '.vscodeignore leaves package.nls.json out of the VSIX');
  });

  it('catches a literal title, an unknown property, a missing key and an unused key', () => {
    const bad = check(
      {
        displayName: '%displayName%',
        description: 'Plain text',
        contributes: {
          commands: [{ command: 'x.a', title: 'Do A', category: '%category%' }],
          submenus: [{ id: 'x.menu', label: '%submenu.label%' }],
          walkthroughs: [{ id: 'w', title: '%walkthrough.title%', summary: 'Unclassified' }],
          configuration: { properties: { 'x.s': { type: 'string', enum: ['a'], default: 'a', enumDescriptions: ['Literal'] } } },
        },
      },
      { displayName: 'X', category: 'X', 'walkthrough.title': 'W', unusedKey: 'U' },
    );
    assert.deepStrictEqual(bad.literal, [
      'description = "Plain text"',
      'contributes.commands[0].title = "Do A"',
      'contributes.configuration.properties.x.s.enumDescriptions[0] = "Literal"',
    ]);
    assert.deepStrictEqual(bad.unclassified, ['contributes.walkthroughs[0].summary = "Unclassified"']);
    assert.deepStrictEqual(bad.missing, ['contributes.submenus[0].label = %submenu.label%']);
    assert.deepStrictEqual(bad.unused, ['unusedKey']);
  });
});
