import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { StepLogError } from '../../src/core/errors';
import {
  agentResultText,
  findStepLog,
  listStepLogs,
  parseLogSummary,
  readStepLogText,
  StepLogSummaries,
  stepLogsFolder,
  SUMMARY_TAIL_BYTES,
} from '../../src/core/stepLog';
import { bulkToolResults, formatChunk, logFileName, sessionLines, writeStepLog } from '../fixtures/stepLogs';
import { makeTempDir } from '../fixtures/stepFixtures';

const started = new Date(2026, 2, 14, 9, 30, 5);

describe('stepLog', () => {
  let project: string;
  let dbPath: string;
  let logs: string;

  beforeEach(() => {
    project = makeTempDir();
    dbPath = path.join(project, 'steps.db');
    fs.writeFileSync(dbPath, '');
    logs = stepLogsFolder(dbPath);
  });
  afterEach(() => fs.rmSync(project, { recursive: true, force: true }));

  describe('finding a step log', () => {
    it('finds logs/step-S<N>-<stamp>.log beside the database, the newest when several', async () => {
      assert.strictEqual(logs, path.join(project, 'logs'));
      const older = writeStepLog(logs, 7, started, sessionLines());
      const newer = writeStepLog(logs, 7, new Date(started.getTime() + 3600_000), sessionLines());
      writeStepLog(logs, 70, started, sessionLines());
      fs.writeFileSync(path.join(logs, 'notes.txt'), 'not a log');
      fs.writeFileSync(path.join(logs, 'step-S8.txt'), 'not a log');
      assert.strictEqual(path.basename(older), 'step-S7-20260314-093005.log');
      const found = await findStepLog(dbPath, 7);
      assert.strictEqual(found?.path, newer);
      assert.strictEqual(found?.size, fs.statSync(newer).size);
      assert.deepStrictEqual([...(await listStepLogs(logs)).keys()].sort((a, b) => a - b), [7, 70]);
      assert.strictEqual(await findStepLog(dbPath, 8), null);
    });

    it('has none when the logs folder does not exist', async () => {
      assert.strictEqual(await findStepLog(dbPath, 1), null);
      assert.strictEqual((await listStepLogs(path.join(project, 'nowhere'))).size, 0);
    });
  });

  describe('the summary', () => {
    it('reads a successful step: outcome, turns, agent time, cost and the final message', async () => {
      const file = writeStepLog(logs, 3, started, sessionLines({
        turns: 4,
        result: { numTurns: 12, durationMs: 85_312, costUsd: 0.42131, text: 'Added the CSV parser.\n\nAll 14 tests pass.' },
      }));
      const text = fs.readFileSync(file, 'utf8');
      assert.match(text, /^# Claude Code \(claude-sonnet-4-5\)\n/);
      assert.match(text, /\n---\n✅ Success • 12 turns • 85\.3s • \$0\.4213\n\nAdded the CSV parser\./, 'written as LaForge writes it');
      const summary = parseLogSummary(text);
      assert.deepStrictEqual(summary, {
        outcome: 'success',
        reason: null,
        turns: 12,
        durationMs: 85_300,
        costUsd: 0.4213,
        finalMessage: 'Added the CSV parser.\n\nAll 14 tests pass.',
      });
    });

    it('reads an error, and leaves out the figures LaForge left out (zeros)', () => {
      const text = formatChunk(sessionLines({ turns: 1, result: { isError: true, numTurns: 0, durationMs: 0, costUsd: 0.0031, text: 'API Error: 529 Overloaded' } }).join('\n') + '\n');
      assert.match(text, /\n---\n❌ Error • \$0\.0031\n/);
      assert.deepStrictEqual(parseLogSummary(text), { outcome: 'error', reason: null, turns: null, durationMs: null, costUsd: 0.0031, finalMessage: 'API Error: 529 Overloaded' });
      const bare = formatChunk(sessionLines({ turns: 0, result: {} }).join('\n') + '\n');
      assert.match(bare, /\n---\n✅ Success\n+$/);
      assert.deepStrictEqual(parseLogSummary(bare), { outcome: 'success', reason: null, turns: null, durationMs: null, costUsd: null, finalMessage: '' });
    });

    it('has none while the step runs', () => {
      assert.strictEqual(parseLogSummary(formatChunk(sessionLines({ turns: 5 }).join('\n') + '\n')), null);
    });

    it('reads the figures of a result LaForge leaves as raw JSON (error_max_turns), and only a real result line', () => {
      const maxTurns = formatChunk(sessionLines({ turns: 2, result: { subtype: 'error_max_turns', numTurns: 30, durationMs: 612_345, costUsd: 1.5 } }).join('\n') + '\n');
      assert.match(maxTurns, /\n\{"type":"result","subtype":"error_max_turns",[^\n]*\}\n$/, 'LaForge writes the raw line');
      assert.ok(!maxTurns.includes('\n---\n'), 'and no summary');
      const summary = parseLogSummary(maxTurns);
      assert.deepStrictEqual(summary, { outcome: 'error', reason: 'error_max_turns', turns: 30, durationMs: 612_345, costUsd: 1.5, finalMessage: '' });
      assert.strictEqual(agentResultText(summary!), 'Error: reached its turn limit');
      assert.strictEqual(agentResultText({ outcome: 'error', reason: 'error_something_new' }), 'Error: error_something_new');
      // A later formatted summary wins over an earlier raw one, and the reverse.
      const success = formatChunk(sessionLines({ turns: 1, result: { numTurns: 3, costUsd: 0.2, text: 'Done.' } }).join('\n') + '\n');
      assert.deepStrictEqual(parseLogSummary(maxTurns + success), { outcome: 'success', reason: null, turns: 3, durationMs: null, costUsd: 0.2, finalMessage: 'Done.' });
      assert.equal(parseLogSummary(success + maxTurns)?.reason, 'error_max_turns');
      // Text that only looks like a result line (in a tool result, broken JSON, another type) is not one.
      assert.strictEqual(parseLogSummary('**Tool result:**\n```\n{"type":"result","num_turns":3\n```\n'), null);
      assert.strictEqual(parseLogSummary('{"type":"result","subtype":"error_max_turns", oops}\n'), null);
      assert.strictEqual(parseLogSummary('  {"type":"result","num_turns":3}\n'), null);
    });

    it('takes the last summary, and does not mistake a "Success" inside the text for one', () => {
      const text =
        'The plan said:\n✅ Success • 99 turns\n\n---\n✅ Success • 2 turns • 1.0s • $0.0100\n\nfirst\n' +
        '---\n❌ Error • 3 turns • 4.5s • $0.0200\n\nsecond\n';
      assert.deepStrictEqual(parseLogSummary(text), { outcome: 'error', reason: null, turns: 3, durationMs: 4500, costUsd: 0.02, finalMessage: 'second' });
      assert.strictEqual(parseLogSummary('✅ Success • 3 turns\n'), null, 'no `---` line before it');
    });

    it('reads the summary of a 20 MB log from its tail, and reads it again only when the file changes', async () => {
      const file = writeStepLog(
        logs,
        9,
        started,
        sessionLines({ turns: 2, result: { numTurns: 212, durationMs: 3_600_000, costUsd: 18.25, text: 'Refactored the importer.' } }),
        bulkToolResults(20 * 1024 * 1024),
      );
      const size = fs.statSync(file).size;
      assert.ok(size > 20 * 1024 * 1024, `the log is ${size} bytes`);
      const summaries = new StepLogSummaries();
      // Only the tail is read: count the bytes fs reads while the summary is taken.
      let bytesRead = 0;
      const handle = await fs.promises.open(file, 'r');
      const proto = Object.getPrototypeOf(handle) as { read: typeof handle.read };
      await handle.close();
      const original = proto.read;
      proto.read = async function (this: fs.promises.FileHandle, ...args: Parameters<typeof handle.read>) {
        const result = await original.apply(this, args);
        bytesRead += result.bytesRead;
        return result;
      } as typeof handle.read;
      try {
        const found = (await findStepLog(dbPath, 9))!;
        const summary = await summaries.summary(found);
        assert.deepStrictEqual(summary, { outcome: 'success', reason: null, turns: 212, durationMs: 3_600_000, costUsd: 18.25, finalMessage: 'Refactored the importer.' });
        assert.ok(bytesRead > 0 && bytesRead <= SUMMARY_TAIL_BYTES, `read ${bytesRead} bytes of ${size}`);
        assert.strictEqual(summaries.reads, 1);
        await summaries.summary((await findStepLog(dbPath, 9))!);
        assert.strictEqual(summaries.reads, 1, 'unchanged: from the cache');
        fs.appendFileSync(file, '\n---\n❌ Error • 1 turns\n\nstopped\n');
        const again = await summaries.summary((await findStepLog(dbPath, 9))!);
        assert.strictEqual(summaries.reads, 2, 'grown: read again');
        assert.strictEqual(again?.outcome, 'error');
      } finally {
        proto.read = original;
      }
    });
  });

  describe('the text', () => {
    it('reads a small log whole, and only the last part of a big one, from a line start', async () => {
      const small = writeStepLog(logs, 1, started, sessionLines({ result: { numTurns: 1 } }));
      const whole = await readStepLogText(small, 1024 * 1024);
      assert.strictEqual(whole.text, fs.readFileSync(small, 'utf8'));
      assert.strictEqual(whole.skippedBytes, 0);
      // Multi-byte characters everywhere: a cut must not split one.
      const big = path.join(logs, logFileName(2, started));
      fs.writeFileSync(big, 'é✅ line\n'.repeat(200_000));
      const tail = await readStepLogText(big, 100_000);
      assert.ok(tail.skippedBytes > 0 && tail.skippedBytes + Buffer.byteLength(tail.text) === tail.size);
      assert.ok(tail.text.startsWith('é✅ line\n') && !tail.text.includes('\uFFFD'));
      assert.ok(Buffer.byteLength(tail.text) <= 100_000);
    });

    it('says so, typed, when the log went away', async () => {
      await assert.rejects(readStepLogText(path.join(logs, 'step-S1-gone.log'), 1000), (err: unknown) => err instanceof StepLogError && err.code === 'LOG_MISSING');
    });
  });
});
