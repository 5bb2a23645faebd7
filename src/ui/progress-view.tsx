// Live progress of a deploy, rollback or promotion: finished lines in <Static>, the running step with a
// spinner and the last lines of its output, then a summary. It only displays engine events.
import { Box, Static, Text } from 'ink';
import { useEffect, useState } from 'react';
import { usePaint } from './color.js';
import type { ProgressLine, ProgressState } from './progress-state.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const MARK: Record<ProgressLine['status'], [string, string]> = {
  done: ['✓', 'green'],
  failed: ['✗', 'red'],
  skipped: ['-', 'gray'],
  info: ['•', 'cyan'],
  warn: ['!', 'yellow'],
  output: [' ', 'gray'],
};

function Spinner({ animate = true }: { readonly animate?: boolean }) {
  const paint = usePaint();
  const [frame, setFrame] = useState(0);
  useEffect(() => {
    if (!animate) return;
    const timer = setInterval(() => setFrame((f) => (f + 1) % FRAMES.length), 80);
    return () => clearInterval(timer);
  }, [animate]);
  return <Text color={paint('cyan')}>{FRAMES[frame]}</Text>;
}

function ProgressLineView({ line, truncate = false }: { readonly line: ProgressLine; readonly truncate?: boolean }) {
  const paint = usePaint();
  const [mark, color] = MARK[line.status];
  if (line.status === 'output') {
    return (
      <Text color={paint(color)} wrap="truncate-end">
        {'  │ '}
        {line.text}
      </Text>
    );
  }
  return (
    <Text wrap={truncate ? 'truncate-end' : 'wrap'}>
      <Text color={paint(color)}>{mark}</Text> {line.text}
    </Text>
  );
}

/**
 * The live part: running step, output tail, summary. `staticLines` uses <Static> (a whole-screen deploy);
 * without it (inside the board) only the last lines that fit in `maxLines` are shown.
 */
export function ProgressView({
  state,
  staticLines = true,
  animate = true,
  maxLines = 12,
}: {
  readonly state: ProgressState;
  readonly staticLines?: boolean;
  readonly animate?: boolean;
  readonly maxLines?: number;
}) {
  const paint = usePaint();
  const summary = state.finished.length > 0 && !state.running ? state.finished : [];
  const live = (state.running ? 1 + state.tail.length : 0) + (summary.length > 0 && !staticLines ? 1 : 0);
  const recent = state.done.slice(-Math.max(1, maxLines - live));
  return (
    <Box flexDirection="column">
      {staticLines ? (
        <Static items={state.done}>{(l) => <ProgressLineView key={l.key} line={l} />}</Static>
      ) : (
        <Box flexDirection="column">
          {recent.map((l) => (
            <ProgressLineView key={l.key} line={l} truncate />
          ))}
        </Box>
      )}
      {state.running ? (
        <Box flexDirection="column">
          <Text wrap="truncate-end">
            <Spinner animate={animate} /> {state.running}
          </Text>
          {state.tail.map((t, i) => (
            <Text key={i} color={paint('gray')} wrap="truncate-end">
              {'  │ '}
              {t}
            </Text>
          ))}
        </Box>
      ) : null}
      {summary.length > 0 && !staticLines ? <Text bold>{summary.map((r) => `${r.action} ${r.version}: ${r.status}`).join(' · ')}</Text> : null}
    </Box>
  );
}
