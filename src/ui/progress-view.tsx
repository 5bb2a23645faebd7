// Live progress of a deploy, rollback or promotion: finished lines in <Static>, the running step with a
// spinner and the last lines of its output, then a summary. It only displays engine events.
import { Box, Static, Text } from 'ink';
import { useEffect, useState } from 'react';
import type { ProgressLine, ProgressState } from './progress-state.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const MARK: Record<ProgressLine['status'], [string, string]> = {
  done: ['✓', 'green'],
  failed: ['✗', 'red'],
  skipped: ['-', 'gray'],
  info: ['•', 'cyan'],
  warn: ['!', 'yellow'],
};

export function Spinner({ animate = true }: { readonly animate?: boolean }) {
  const [frame, setFrame] = useState(0);
  useEffect(() => {
    if (!animate) return;
    const timer = setInterval(() => setFrame((f) => (f + 1) % FRAMES.length), 80);
    return () => clearInterval(timer);
  }, [animate]);
  return <Text color="cyan">{FRAMES[frame]}</Text>;
}

export function ProgressLines({ lines }: { readonly lines: readonly ProgressLine[] }) {
  return (
    <Box flexDirection="column">
      {lines.map((l) => (
        <ProgressLineView key={l.key} line={l} />
      ))}
    </Box>
  );
}

function ProgressLineView({ line }: { readonly line: ProgressLine }) {
  const [mark, color] = MARK[line.status];
  return (
    <Text>
      <Text color={color}>{mark}</Text> {line.text}
    </Text>
  );
}

/** The live part: running step, output tail, summary. `staticLines` uses <Static> (a whole-screen deploy). */
export function ProgressView({ state, staticLines = true, animate = true }: { readonly state: ProgressState; readonly staticLines?: boolean; readonly animate?: boolean }) {
  const summary = state.finished.length > 0 && !state.running ? state.finished : [];
  return (
    <Box flexDirection="column">
      {staticLines ? <Static items={state.done}>{(l) => <ProgressLineView key={l.key} line={l} />}</Static> : <ProgressLines lines={state.done.slice(-12)} />}
      {state.running ? (
        <Box flexDirection="column">
          <Text>
            <Spinner animate={animate} /> {state.running}
          </Text>
          {state.tail.map((t, i) => (
            <Text key={i} color="gray">
              {'  │ '}
              {t}
            </Text>
          ))}
        </Box>
      ) : null}
      {summary.length > 0 && !staticLines ? (
        <Text bold>
          {summary.map((r) => `${r.action} ${r.version}: ${r.status}`).join(' · ')}
        </Text>
      ) : null}
    </Box>
  );
}
