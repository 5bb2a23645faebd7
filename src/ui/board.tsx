// `deployctl ui`: a live board of apps × environments. Keys move, open a target's history, and run a
// rollback or a promotion after a confirmation. Everything it does goes through BoardDeps.
import { Box, Text, useApp, useInput } from 'ink';
import { useCallback, useEffect, useReducer, useRef, useState } from 'react';
import type { DeployEvent } from '../engine/events.js';
import type { DeployRecord } from '../state/types.js';
import { usePaint } from './color.js';
import { initialProgress, reduceProgress, type ProgressState } from './progress-state.js';
import { ProgressView } from './progress-view.js';
import { ago, elapsed } from '../config/duration.js';

/** What the board shows: the core's grid of apps × environments (core/status.ts boardData). */
export type { Grid as BoardData } from '../core/status.js';
import type { Grid as BoardData, GridCell as BoardCell } from '../core/status.js';

export interface BoardDeps {
  loadBoard(): Promise<BoardData>;
  loadHistory(app: string, env: string): Promise<DeployRecord[]>;
  /** The version a rollback would go back to, or why there is none. */
  previewRollback(app: string, env: string): Promise<{ version?: string; reason?: string }>;
  /** The version a promotion would deploy, or why it would be refused (its gates). */
  previewPromotion(app: string, from: string, to: string): Promise<{ version?: string; reason?: string }>;
  rollback(app: string, env: string, onEvent: (e: DeployEvent) => void): Promise<{ exitCode: number }>;
  promote(app: string, from: string, to: string, onEvent: (e: DeployEvent) => void): Promise<{ exitCode: number }>;
  watch(onChange: () => void): () => void;
  now?(): number;
}

type Mode =
  | { kind: 'board' }
  | { kind: 'history'; records: DeployRecord[]; selected: number }
  | { kind: 'confirm'; action: 'rollback' | 'promote'; question: string; run: (onEvent: (e: DeployEvent) => void) => Promise<{ exitCode: number }> }
  | { kind: 'running'; title: string; done: boolean; exitCode?: number }
  | { kind: 'help' }
  | { kind: 'filter'; text: string }
  | { kind: 'message'; text: string };

const SYMBOL: Record<string, [string, string]> = {
  succeeded: ['✓', 'green'],
  failed: ['✗', 'red'],
  rolled_back: ['↺', 'yellow'],
  running: ['…', 'cyan'],
  pending: ['…', 'cyan'],
  interrupted: ['!', 'magenta'],
};

function fit(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, Math.max(0, width - 1))}…` : text.padEnd(width);
}

const KEYS = [
  '←↑↓→/hjkl move · enter history · r rollback · p promote · / filter · ? help · q quit',
  '←↑↓→ move · enter history · r rollback · p promote · / filter · ? help · q quit',
  'hjkl move · ⏎ history · r rollback · p promote · / filter · ? help · q quit',
  '? help · q quit',
];

/** The key line that fits the width on one line. */
function keysLine(width: number): string {
  return KEYS.find((k) => k.length <= width) ?? KEYS[KEYS.length - 1]!;
}

/** One cell: a mark for the selected one (readable without inverse or colour), then symbol, version, age, who. */
export function cellText(cell: BoardCell | undefined, width: number, now: number, selected = false): string {
  return `${selected ? '▸' : ' '}${cellBody(cell, width - 1, now)}`;
}

function cellBody(cell: BoardCell | undefined, width: number, now: number): string {
  if (!cell?.status) return fit('·', width);
  const mark = SYMBOL[cell.status]?.[0] ?? '?';
  const version = cell.version ?? (cell.destroyed ? 'destroyed' : '-');
  const failedNewer = cell.status !== 'succeeded' && cell.lastVersion && cell.lastVersion !== cell.version ? ` (${cell.lastVersion})` : '';
  const when = cell.at ? ` ${elapsed(cell.at, now)}` : '';
  const who = cell.by ? ` ${cell.by}` : '';
  return fit(`${mark} ${version}${failedNewer}${when}${who}`, width);
}

/**
 * State whose latest value the key handler reads at once: keys that come faster than the screen
 * renders (a paste, a busy machine) each act on what the keys before them did, none is lost.
 */
function useLatest<T>(initial: T): [T, (next: T | ((previous: T) => T)) => void, { readonly current: T }] {
  const [value, setValue] = useState(initial);
  const ref = useRef(value);
  const set = useCallback((next: T | ((previous: T) => T)) => {
    ref.current = typeof next === 'function' ? (next as (previous: T) => T)(ref.current) : next;
    setValue(ref.current);
  }, []);
  return [value, set, ref];
}

interface BoardProps {
  readonly deps: BoardDeps;
  readonly width?: number;
  readonly height?: number;
  /** The first data, when it was loaded before the board: in hand (the first frame shows it), or still coming. */
  readonly initial?: BoardData | Promise<BoardData>;
}

/** The apps shown (filtered) and the selected target. */
function selection(data: BoardData | undefined, filter: string, row: number, col: number) {
  const apps = (data?.apps ?? []).filter((a) => a.includes(filter));
  const envs = data?.envs ?? [];
  const app = apps[Math.min(row, apps.length - 1)];
  const env = envs[Math.min(col, envs.length - 1)];
  const cell = app && env ? data?.cells[app]?.[env.name] : undefined;
  return { apps, envs, app, env, cell };
}

export function Board({ deps, width = 80, height = 24, initial }: BoardProps) {
  const { exit } = useApp();
  const [data, setData, dataRef] = useLatest<BoardData | undefined>(initial instanceof Promise ? undefined : initial);
  const [row, setRow, rowRef] = useLatest(0);
  const [col, setCol, colRef] = useLatest(0);
  const [filter, setFilter, filterRef] = useLatest('');
  const [mode, setMode, modeRef] = useLatest<Mode>({ kind: 'board' });
  const [progress, dispatch] = useReducer(reduceProgress, initialProgress);
  const [resetKey, setResetKey] = useState(0);
  const paint = usePaint();
  const now = deps.now?.() ?? Date.now();

  const reload = useCallback(() => {
    void deps.loadBoard().then(setData);
  }, [deps, setData]);
  useEffect(() => {
    // `initial` only matters for the first frame: it is read here once.
    if (initial instanceof Promise) void initial.then(setData);
    else if (!initial) reload();
    return deps.watch(reload);
  }, [deps, reload]);

  const { apps, envs, app, env } = selection(data, filter, row, col);

  useInput((input, key) => {
    const mode = modeRef.current;
    const { apps, envs, app, env, cell } = selection(dataRef.current, filterRef.current, rowRef.current, colRef.current);
    if (mode.kind === 'running') {
      if (mode.done) {
        setMode({ kind: 'board' });
        reload();
      }
      return;
    }
    if (mode.kind === 'help' || mode.kind === 'message') {
      setMode({ kind: 'board' });
      return;
    }
    if (mode.kind === 'filter') {
      if (key.return) setMode({ kind: 'board' });
      else if (key.escape) {
        setFilter('');
        setMode({ kind: 'board' });
      } else if (key.backspace || key.delete) setFilter((f) => f.slice(0, -1));
      else if (input && !key.ctrl) {
        setFilter((f) => f + input);
        setRow(0);
      }
      return;
    }
    if (mode.kind === 'confirm') {
      if (input === 'y' || input === 'Y') {
        setResetKey((k) => k + 1);
        setMode({ kind: 'running', title: mode.question, done: false });
        void mode.run((e) => dispatch(e)).then(
          (r) => setMode((m) => ({ kind: 'running', title: m.kind === 'running' ? m.title : '', done: true, exitCode: r.exitCode })),
          (error: Error) => setMode({ kind: 'message', text: `${error.message}` }),
        );
      } else if (input === 'n' || input === 'N' || key.escape || input === 'q') setMode({ kind: 'board' });
      return;
    }
    if (mode.kind === 'history') {
      if (key.upArrow || input === 'k') setMode({ ...mode, selected: Math.max(0, mode.selected - 1) });
      else if (key.downArrow || input === 'j') setMode({ ...mode, selected: Math.min(mode.records.length - 1, mode.selected + 1) });
      else if (key.escape || key.backspace || key.delete || input === 'q' || key.leftArrow || input === 'h') setMode({ kind: 'board' });
      return;
    }
    // the board
    if (input === 'q' || (key.ctrl && input === 'c')) exit();
    else if (key.upArrow || input === 'k') setRow((r) => Math.max(0, r - 1));
    else if (key.downArrow || input === 'j') setRow((r) => Math.min(Math.max(0, apps.length - 1), r + 1));
    else if (key.leftArrow || input === 'h') setCol((c) => Math.max(0, c - 1));
    else if (key.rightArrow || input === 'l') setCol((c) => Math.min(Math.max(0, envs.length - 1), c + 1));
    else if (input === '?') setMode({ kind: 'help' });
    else if (input === '/') setMode({ kind: 'filter', text: filterRef.current });
    else if (key.return && app && env) void deps.loadHistory(app, env.name).then((records) => setMode({ kind: 'history', records, selected: 0 }));
    else if (input === 'r' && app && env) {
      void deps.previewRollback(app, env.name).then((preview) =>
        setMode(
          preview.version
            ? {
                kind: 'confirm',
                action: 'rollback',
                question: `Roll back ${app} in ${env.name} from ${cell?.version ?? '-'} to ${preview.version}?${env.protected ? ` (${env.name} is protected)` : ''}`,
                run: (onEvent) => deps.rollback(app, env.name, onEvent),
              }
            : { kind: 'message', text: preview.reason ?? 'nothing to roll back to' },
        ),
      );
    } else if (input === 'p' && app && env) {
      const next = envs[envs.indexOf(env) + 1];
      if (!next) setMode({ kind: 'message', text: `${env.name} is the last environment: there is nothing to promote to` });
      else if (!cell?.version) setMode({ kind: 'message', text: `${app} runs nothing in ${env.name} to promote` });
      else
        void deps.previewPromotion(app, env.name, next.name).then((preview) =>
          setMode(
            preview.version
              ? {
                  kind: 'confirm',
                  action: 'promote',
                  question: `Promote ${app} ${preview.version} from ${env.name} to ${next.name}?${next.protected ? ` (${next.name} is protected)` : ''}`,
                  run: (onEvent) => deps.promote(app, env.name, next.name, onEvent),
                }
              : { kind: 'message', text: preview.reason ?? 'nothing to promote' },
          ),
        );
    }
  });

  if (!data) return <Text>loading…</Text>;
  if (mode.kind === 'history' && app && env) {
    return <HistoryView app={app} env={env.name} records={mode.records} selected={mode.selected} now={now} width={width} height={height} />;
  }

  const appWidth = Math.min(24, Math.max(8, ...apps.map((a) => a.length + 2)));
  const cellWidth = Math.max(10, Math.floor((width - appWidth - 1) / Math.max(1, envs.length)));
  // Rows of apps that fit: the title, the header and the key line take 4 lines; a running action or
  // the help below the board take up to 13 more.
  const below = mode.kind === 'running' || mode.kind === 'help' || mode.kind === 'confirm' ? 13 : 0;
  const visibleRows = Math.max(3, height - 5 - below);
  const first = Math.max(0, Math.min(row - visibleRows + 1, apps.length - visibleRows));
  const shown = apps.slice(first, first + visibleRows);
  const progressLines = Math.max(3, height - 5 - shown.length);

  return (
    <Box flexDirection="column" width={width}>
      <Text bold>
        deployctl · {apps.length} apps × {envs.length} environments{filter ? ` · filter "${filter}"` : ''}
      </Text>
      <Box>
        <Text bold>{fit('APP', appWidth)}</Text>
        {envs.map((e) => (
          <Text key={e.name} bold>
            {fit(` ${e.name.toUpperCase()}${e.protected ? ' *' : ''}`, cellWidth)}
          </Text>
        ))}
      </Box>
      {shown.map((a) => {
        const r = apps.indexOf(a);
        return (
          <Box key={a}>
            <Text bold={r === row}>{fit(a, appWidth)}</Text>
            {envs.map((e, c) => {
              const cl = data.cells[a]?.[e.name];
              const selected = r === row && c === col;
              return (
                <Text key={e.name} inverse={selected} color={paint(cl?.status ? SYMBOL[cl.status]?.[1] ?? 'gray' : 'gray')}>
                  {cellText(cl, cellWidth, now, selected)}
                </Text>
              );
            })}
          </Box>
        );
      })}
      {apps.length === 0 ? <Text color={paint('gray')}>no app matches "{filter}"</Text> : null}
      <Box marginTop={1} flexDirection="column">
        {mode.kind === 'board' ? <Text color={paint('gray')}>{keysLine(width)}</Text> : null}
        {mode.kind === 'filter' ? <Text>filter: {filter}█ (enter to keep, esc to clear)</Text> : null}
        {mode.kind === 'message' ? <Text color={paint('yellow')}>{mode.text} (any key)</Text> : null}
        {mode.kind === 'help' ? <Help /> : null}
        {mode.kind === 'confirm' ? (
          <Text>
            <Text bold color={paint('yellow')}>
              {mode.question}
            </Text>{' '}
            (y/n)
          </Text>
        ) : null}
        {mode.kind === 'running' ? (
          <Box flexDirection="column" key={resetKey}>
            <ProgressView state={progress as ProgressState} animate={!mode.done} maxLines={progressLines - (mode.done ? 1 : 0)} />
            {mode.done ? <Text bold>{mode.exitCode === 0 ? '✓ done' : `✗ failed (exit ${mode.exitCode})`} · any key to go back</Text> : null}
          </Box>
        ) : null}
      </Box>
    </Box>
  );
}

function Help() {
  const paint = usePaint();
  return (
    <Box flexDirection="column">
      <Text bold>keys</Text>
      <Text>←↑↓→ or h j k l  move between apps and environments</Text>
      <Text>enter             history of the selected app in that environment</Text>
      <Text>r                 roll the selected target back (asks first)</Text>
      <Text>p                 promote the selected version to the next environment (asks first)</Text>
      <Text>/                 filter apps by name</Text>
      <Text>q                 quit</Text>
      <Text color={paint('gray')}>symbols: ✓ succeeded ✗ failed ↺ rolled back … running ! interrupted · nothing yet</Text>
      <Text color={paint('gray')}>▸ selected · * protected environment · any key to go back</Text>
    </Box>
  );
}

/**
 * The history of one target, on the whole screen: the records (the selected one marked), then the
 * selected record's error, steps and health attempts, as many as fit in `height` lines.
 */
function HistoryView({
  app,
  env,
  records,
  selected,
  now,
  width,
  height,
}: {
  readonly app: string;
  readonly env: string;
  readonly records: readonly DeployRecord[];
  readonly selected: number;
  readonly now: number;
  readonly width: number;
  readonly height: number;
}) {
  const paint = usePaint();
  const record = records[selected];
  const listRows = Math.max(3, Math.min(records.length, Math.floor((height - 4) / 3)));
  const firstRow = Math.max(0, Math.min(selected - listRows + 1, records.length - listRows));
  const list = records.slice(firstRow, firstRow + listRows);
  // Lines left for the details: title, list, a blank line, the id, error and health lines, one spare.
  let room = height - 1 - list.length - 1 - 1 - (record?.error ? 1 : 0) - (record?.health ? 1 : 0) - 1;
  const attempts = (record?.health?.attempts ?? []).slice(-Math.max(0, Math.min(3, room - 1)));
  room -= attempts.length;
  const steps = record?.steps ?? [];
  const shownSteps = steps.length > room ? steps.slice(0, Math.max(0, room - 1)) : steps;
  return (
    <Box flexDirection="column" width={width}>
      <Text bold wrap="truncate-end">
        history of {app} in {env} ({records.length}) · ↑↓ select · esc back
      </Text>
      {records.length === 0 ? <Text color={paint('gray')}>no deployments yet</Text> : null}
      {list.map((r) => (
        <Text key={r.id} inverse={r === record} wrap="truncate-end">
          {r === record ? '▸' : ' '}
          {SYMBOL[r.status]?.[0] ?? '?'} {r.action.padEnd(8)} {r.version.padEnd(12)} {r.status.padEnd(11)} {ago(r.startedAt, now).padEnd(8)} {r.user}
        </Text>
      ))}
      {record ? (
        <Box flexDirection="column" marginTop={1}>
          <Text color={paint('gray')} wrap="truncate-end">
            {record.id}
          </Text>
          {record.error ? (
            <Text color={paint('red')} wrap="truncate-end">
              error: {record.error.message}
            </Text>
          ) : null}
          {shownSteps.map((s, i) => (
            <Text key={i} wrap="truncate-end">
              {s.exitCode === 0 ? '✓' : s.skipped ? '-' : '✗'} {s.label}
            </Text>
          ))}
          {shownSteps.length < steps.length ? (
            <Text color={paint('gray')} wrap="truncate-end">
              … {steps.length - shownSteps.length} more: deployctl history show {record.id}
            </Text>
          ) : null}
          {record.health ? <Text wrap="truncate-end">health: {record.health.message}</Text> : null}
          {attempts.map((a) => (
            <Text key={a.attempt} color={paint(a.ok ? 'green' : 'red')} wrap="truncate-end">
              {'  '}attempt {a.attempt}: {a.message}
            </Text>
          ))}
        </Box>
      ) : null}
    </Box>
  );
}
