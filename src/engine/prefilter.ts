/**
 * The multi-pattern pass only decides which rules can match a chunk; each candidate rule then runs
 * its exact pattern. So the Set may use a wider (superset) form of each pattern, and it must:
 * counted repetitions such as `[A-Za-z0-9]{36}` or `[\s\S]{64,8192}` expand into one program
 * state per count, and a Set of a few hundred rules then exceeds RE2's memory budget.
 * `X{m,n}`, `X{m}` and `X{m,}` become `X+` (or `X*` when m is 0): everything the rule matches,
 * the widened form matches too.
 */
export function widenRepetitions(pattern: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\') {
      out += ch + (pattern[i + 1] ?? '');
      i++;
      continue;
    }
    if (inClass) {
      if (ch === ']') inClass = false;
      out += ch;
      continue;
    }
    if (ch === '[') {
      inClass = true;
      out += ch;
      // a ']' right after '[' or '[^' is a literal member
      if (pattern[i + 1] === '^') {
        out += '^';
        i++;
      }
      if (pattern[i + 1] === ']') {
        out += ']';
        i++;
      }
      continue;
    }
    if (ch === '{') {
      const m = /^\{(\d+)(,(\d*))?\}(\?)?/.exec(pattern.slice(i));
      if (m) {
        out += Number(m[1]) === 0 ? '*' : '+';
        i += m[0].length - 1;
        continue;
      }
    }
    out += ch;
  }
  return out;
}
