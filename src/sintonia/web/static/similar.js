// Python's difflib.get_close_matches(word, candidates, n=1, cutoff), for the server's "did
// you mean" hints: SequenceMatcher.ratio() is 2 * matches / total length, where matches come
// from recursively taking the longest common block (earliest in the candidate on ties).

function longestMatch(a, b, alo, ahi, blo, bhi, b2j) {
  let besti = alo, bestj = blo, bestsize = 0;
  let j2len = new Map();
  for (let i = alo; i < ahi; i++) {
    const next = new Map();
    for (const j of b2j.get(a[i]) || []) {
      if (j < blo) continue;
      if (j >= bhi) break;
      const k = (j2len.get(j - 1) || 0) + 1;
      next.set(j, k);
      if (k > bestsize) [besti, bestj, bestsize] = [i - k + 1, j - k + 1, k];
    }
    j2len = next;
  }
  return [besti, bestj, bestsize];
}

export function ratio(a, b) {
  a = [...a];
  b = [...b];
  const b2j = new Map();
  b.forEach((c, j) => b2j.set(c, [...(b2j.get(c) || []), j]));
  let matches = 0;
  const queue = [[0, a.length, 0, b.length]];
  while (queue.length) {
    const [alo, ahi, blo, bhi] = queue.pop();
    const [i, j, k] = longestMatch(a, b, alo, ahi, blo, bhi, b2j);
    if (!k) continue;
    matches += k;
    if (alo < i && blo < j) queue.push([alo, i, blo, j]);
    if (i + k < ahi && j + k < bhi) queue.push([i + k, ahi, j + k, bhi]);
  }
  const total = a.length + b.length;
  return total ? (2 * matches) / total : 1;
}

/** The candidate most like `word` with a ratio of at least `cutoff`, or null. */
export function closeMatch(word, candidates, cutoff) {
  let best = null;
  let bestScore = -1;
  for (const candidate of candidates) {
    const score = ratio(candidate, word);
    // Ties go to the greater string, as heapq.nlargest over (score, candidate) picks.
    if (score >= cutoff && (score > bestScore || (score === bestScore && candidate > best))) {
      [best, bestScore] = [candidate, score];
    }
  }
  return best;
}
