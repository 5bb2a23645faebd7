// A small line diff (longest common subsequence) printed as a unified diff, for `deployctl diff`.

type Op = { kind: ' ' | '-' | '+'; line: string };

function diffLines(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const lcs = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push({ kind: ' ', line: a[i]! });
      i++;
      j++;
    } else if (i < n && (j === m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      ops.push({ kind: '-', line: a[i++]! });
    } else {
      ops.push({ kind: '+', line: b[j++]! });
    }
  }
  return ops;
}

/** `--- from` / `+++ to` and hunks with `context` lines around each change; '' when equal. */
export function unifiedDiff(a: string, b: string, options: { fromLabel: string; toLabel: string; context?: number }): string {
  const context = options.context ?? 3;
  const ops = diffLines(a.split('\n'), b.split('\n'));
  if (ops.every((o) => o.kind === ' ')) return '';
  const out = [`--- ${options.fromLabel}`, `+++ ${options.toLabel}`];
  let k = 0;
  while (k < ops.length) {
    if (ops[k]!.kind === ' ') {
      k++;
      continue;
    }
    let start = Math.max(0, k - context);
    let end = k;
    // Extend the hunk while changes are closer than 2 × context.
    for (;;) {
      while (end < ops.length && ops[end]!.kind !== ' ') end++;
      let next = end;
      while (next < ops.length && ops[next]!.kind === ' ') next++;
      if (next < ops.length && next - end <= 2 * context) end = next;
      else break;
    }
    const stop = Math.min(ops.length, end + context);
    const before = ops.slice(0, start);
    const aStart = before.filter((o) => o.kind !== '+').length + 1;
    const bStart = before.filter((o) => o.kind !== '-').length + 1;
    const hunk = ops.slice(start, stop);
    out.push(`@@ -${aStart},${hunk.filter((o) => o.kind !== '+').length} +${bStart},${hunk.filter((o) => o.kind !== '-').length} @@`);
    for (const o of hunk) out.push(`${o.kind}${o.line}`);
    k = stop;
    start = stop;
  }
  return `${out.join('\n')}\n`;
}
