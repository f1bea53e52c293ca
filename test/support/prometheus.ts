/** One sample line of Prometheus text, read as a scraper reads it. */
export interface ScrapedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Reads one sample line: name, labels (escapes undone) and value; throws on anything malformed. */
export function parseSampleLine(line: string): ScrapedSample {
  const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
  if (!name) throw new Error(`no metric name: ${line}`);
  const labels: Record<string, string> = {};
  let i = name.length;
  if (line[i] === '{') {
    i++;
    while (line[i] !== '}') {
      const key = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(i))?.[0];
      if (!key || line.slice(i + key.length, i + key.length + 2) !== '="') throw new Error(`bad label at ${i}: ${line}`);
      i += key.length + 2;
      let value = '';
      for (; line[i] !== '"'; i++) {
        if (i >= line.length) throw new Error(`unterminated label value: ${line}`);
        if (line[i] !== '\\') value += line[i];
        else value += line[++i] === 'n' ? '\n' : line[i];
      }
      labels[key] = value;
      i++;
      if (line[i] === ',') i++;
    }
    i++;
  }
  if (line[i] !== ' ') throw new Error(`no value: ${line}`);
  const raw = line.slice(i + 1);
  const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
  if (Number.isNaN(value) && raw !== 'NaN') throw new Error(`bad value: ${line}`);
  return { name, labels, value };
}

/** Every sample of a scrape; HELP and TYPE lines are skipped. */
export const parsePrometheus = (text: string): ScrapedSample[] =>
  text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).map(parseSampleLine);

/** The samples of one family whose labels include `labels`. */
export const samplesOf = (samples: ScrapedSample[], name: string, labels: Record<string, string> = {}) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
