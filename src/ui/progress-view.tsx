// The progress of a deployment inside the board (`deployctl ui`): the last finished lines that fit, the
// running step with a spinner and the last lines of its output, then a summary. It only displays engine
// events. (A deploy in a terminal shows the same lines without Ink: live-progress.ts.)
import { Box, Text } from 'ink';
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

function ProgressLineView({ line }: { readonly line: ProgressLine }) {
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
    <Text wrap="truncate-end">
      <Text color={paint(color)}>{mark}</Text> {line.text}
    </Text>
  );
}

/** The last lines that fit in `maxLines`, the running step and its output tail, and the summary. */
export function ProgressView({
  state,
  animate = true,
  maxLines = 12,
}: {
  readonly state: ProgressState;
  readonly animate?: boolean;
  readonly maxLines?: number;
}) {
  const paint = usePaint();
  const summary = state.finished.length > 0 && !state.running ? state.finished : [];
  const live = (state.running ? 1 + state.tail.length : 0) + (summary.length > 0 ? 1 : 0);
  const recent = state.done.slice(-Math.max(1, maxLines - live));
  return (
    <Box flexDirection="column">
      <Box flexDirection="column">
        {recent.map((l) => (
          <ProgressLineView key={l.key} line={l} />
        ))}
      </Box>
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
      {summary.length > 0 ? <Text bold>{summary.map((r) => `${r.action} ${r.version}: ${r.status}`).join(' · ')}</Text> : null}
    </Box>
  );
}
