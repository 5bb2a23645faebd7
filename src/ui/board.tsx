// `deployctl ui`: a live board of apps × environments. Keys move, open a target's history, and run a
// rollback or a promotion after a confirmation. Everything it does goes through BoardDeps.
import { Box, Text, useApp, useInput } from 'ink';
import { useCallback, useEffect, useReducer, useState } from 'react';
import type { DeployEvent } from '../engine/events.js';
import type { DeployRecord, RecordStatus } from '../state/types.js';
import { initialProgress, reduceProgress, type ProgressState } from './progress-state.js';
import { ProgressView } from './progress-view.js';
import { age } from './table.js';

export interface BoardCell {
  version: string | null;
  status: RecordStatus | null;
  lastVersion: string | null;
  at: string | null;
  by: string | null;
}

export interface BoardData {
  apps: string[];
  envs: Array<{ name: string; protected: boolean }>;
  cells: Record<string, Record<string, BoardCell>>;
}

export interface BoardDeps {
  loadBoard(): Promise<BoardData>;
  loadHistory(app: string, env: string): Promise<DeployRecord[]>;
  /** The version a rollback would go back to, or why there is none. */
  previewRollback(app: string, env: string): Promise<{ version?: string; reason?: string }>;
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

export const SYMBOL: Record<string, [string, string]> = {
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

export function cellText(cell: BoardCell | undefined, width: number, now: number): string {
  if (!cell?.status) return fit('·', width);
  const mark = SYMBOL[cell.status]?.[0] ?? '?';
  const version = cell.version ?? '-';
  const failedNewer = cell.status !== 'succeeded' && cell.lastVersion && cell.lastVersion !== cell.version ? ` (${cell.lastVersion})` : '';
  const when = cell.at ? ` ${age(cell.at, now).replace(' ago', '')}` : '';
  const who = cell.by ? ` ${cell.by}` : '';
  return fit(`${mark} ${version}${failedNewer}${when}${who}`, width);
}

export interface BoardProps {
  readonly deps: BoardDeps;
  readonly width?: number;
  readonly height?: number;
  /** The first data, when it was loaded before the board: in hand (the first frame shows it), or still coming. */
  readonly initial?: BoardData | Promise<BoardData>;
}

export function Board({ deps, width = 80, height = 24, initial }: BoardProps) {
  const { exit } = useApp();
  const [data, setData] = useState<BoardData | undefined>(initial instanceof Promise ? undefined : initial);
  const [row, setRow] = useState(0);
  const [col, setCol] = useState(0);
  const [filter, setFilter] = useState('');
  const [mode, setMode] = useState<Mode>({ kind: 'board' });
  const [progress, dispatch] = useReducer(reduceProgress, initialProgress);
  const [resetKey, setResetKey] = useState(0);
  const now = deps.now?.() ?? Date.now();

  const reload = useCallback(() => {
    void deps.loadBoard().then(setData);
  }, [deps]);
  useEffect(() => {
    // `initial` only matters for the first frame: it is read here once.
    if (initial instanceof Promise) void initial.then(setData);
    else if (!initial) reload();
    return deps.watch(reload);
  }, [deps, reload]);

  const apps = (data?.apps ?? []).filter((a) => a.includes(filter));
  const envs = data?.envs ?? [];
  const app = apps[Math.min(row, apps.length - 1)];
  const env = envs[Math.min(col, envs.length - 1)];
  const cell = app && env ? data?.cells[app]?.[env.name] : undefined;

  useInput((input, key) => {
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
    else if (input === '/') setMode({ kind: 'filter', text: filter });
    else if (key.return && app && env) void deps.loadHistory(app, env.name).then((records) => setMode({ kind: 'history', records, selected: 0 }));
    else if (input === 'r' && app && env) {
      void deps.previewRollback(app, env.name).then((preview) =>
        setMode(
          preview.version
            ? {
                kind: 'confirm',
                action: 'rollback',
                question: `Roll back ${app} in ${env.name} from ${cell?.version ?? '-'} to ${preview.version}?`,
                run: (onEvent) => deps.rollback(app, env.name, onEvent),
              }
            : { kind: 'message', text: preview.reason ?? 'nothing to roll back to' },
        ),
      );
    } else if (input === 'p' && app && env) {
      const next = envs[col + 1];
      if (!next) setMode({ kind: 'message', text: `${env.name} is the last environment: there is nothing to promote to` });
      else if (!cell?.version) setMode({ kind: 'message', text: `${app} runs nothing in ${env.name} to promote` });
      else
        setMode({
          kind: 'confirm',
          action: 'promote',
          question: `Promote ${app} ${cell.version} from ${env.name} to ${next.name}?${next.protected ? ` (${next.name} is protected)` : ''}`,
          run: (onEvent) => deps.promote(app, env.name, next.name, onEvent),
        });
    }
  });

  if (!data) return <Text>loading…</Text>;

  const appWidth = Math.min(24, Math.max(8, ...apps.map((a) => a.length + 2)));
  const cellWidth = Math.max(10, Math.floor((width - appWidth - 2) / Math.max(1, envs.length)));
  const visibleRows = Math.max(3, height - 8);
  const first = Math.max(0, Math.min(row - visibleRows + 1, apps.length - visibleRows));
  const shown = apps.slice(first, first + visibleRows);

  return (
    <Box flexDirection="column" width={width}>
      <Text bold>
        deployctl · {apps.length} apps × {envs.length} environments{filter ? ` · filter "${filter}"` : ''}
      </Text>
      <Box>
        <Text bold>{fit('APP', appWidth)}</Text>
        {envs.map((e) => (
          <Text key={e.name} bold>
            {fit(`${e.name.toUpperCase()}${e.protected ? ' *' : ''}`, cellWidth)}
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
                <Text key={e.name} inverse={selected} color={cl?.status ? SYMBOL[cl.status]?.[1] : 'gray'}>
                  {cellText(cl, cellWidth, now)}
                </Text>
              );
            })}
          </Box>
        );
      })}
      {apps.length === 0 ? <Text color="gray">no app matches "{filter}"</Text> : null}
      <Box marginTop={1} flexDirection="column">
        {mode.kind === 'board' ? <Text color="gray">←↑↓→/hjkl move · enter history · r rollback · p promote · / filter · ? help · q quit</Text> : null}
        {mode.kind === 'filter' ? <Text>filter: {filter}█ (enter to keep, esc to clear)</Text> : null}
        {mode.kind === 'message' ? <Text color="yellow">{mode.text} (any key)</Text> : null}
        {mode.kind === 'help' ? <Help /> : null}
        {mode.kind === 'confirm' ? (
          <Text>
            <Text bold color="yellow">
              {mode.question}
            </Text>{' '}
            (y/n)
          </Text>
        ) : null}
        {mode.kind === 'running' ? (
          <Box flexDirection="column" key={resetKey}>
            <ProgressView state={progress as ProgressState} staticLines={false} animate={!mode.done} />
            {mode.done ? <Text bold>{mode.exitCode === 0 ? '✓ done' : `✗ failed (exit ${mode.exitCode})`} · any key to go back</Text> : null}
          </Box>
        ) : null}
        {mode.kind === 'history' && app && env ? <HistoryView app={app} env={env.name} records={mode.records} selected={mode.selected} now={now} height={height} /> : null}
      </Box>
    </Box>
  );
}

function Help() {
  return (
    <Box flexDirection="column">
      <Text bold>keys</Text>
      <Text>←↑↓→ or h j k l  move between apps and environments</Text>
      <Text>enter             history of the selected app in that environment</Text>
      <Text>r                 roll the selected target back (asks first)</Text>
      <Text>p                 promote the selected version to the next environment (asks first)</Text>
      <Text>/                 filter apps by name</Text>
      <Text>q                 quit</Text>
      <Text color="gray">symbols: ✓ succeeded ✗ failed ↺ rolled back … running ! interrupted · nothing yet; * protected environment</Text>
    </Box>
  );
}

function HistoryView({ app, env, records, selected, now, height }: { readonly app: string; readonly env: string; readonly records: readonly DeployRecord[]; readonly selected: number; readonly now: number; readonly height: number }) {
  const record = records[selected];
  const list = records.slice(Math.max(0, selected - 4), Math.max(0, selected - 4) + 5);
  return (
    <Box flexDirection="column">
      <Text bold>
        history of {app} in {env} ({records.length}) · ↑↓ select · esc back
      </Text>
      {records.length === 0 ? <Text color="gray">no deployments yet</Text> : null}
      {list.map((r) => (
        <Text key={r.id} inverse={r === record}>
          {SYMBOL[r.status]?.[0] ?? '?'} {r.action.padEnd(8)} {r.version.padEnd(12)} {r.status.padEnd(11)} {age(r.startedAt, now).padEnd(8)} {r.user}
        </Text>
      ))}
      {record ? (
        <Box flexDirection="column" marginTop={1}>
          <Text color="gray">{record.id}</Text>
          {record.error ? <Text color="red">error: {record.error.message}</Text> : null}
          {record.steps.slice(0, Math.max(1, height - 18)).map((s, i) => (
            <Text key={i}>
              {s.exitCode === 0 ? '✓' : s.skipped ? '-' : '✗'} {s.label}
            </Text>
          ))}
          {record.health ? <Text>health: {record.health.message}</Text> : null}
          {(record.health?.attempts ?? []).slice(-3).map((a) => (
            <Text key={a.attempt} color={a.ok ? 'green' : 'red'}>
              {'  '}attempt {a.attempt}: {a.message}
            </Text>
          ))}
        </Box>
      ) : null}
    </Box>
  );
}
