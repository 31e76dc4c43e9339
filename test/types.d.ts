/** parse-prometheus-text-format ships no types: the shape the tests read. */
declare module 'parse-prometheus-text-format' {
  export default function parse(text: string): ParsedFamily[];
}

interface ParsedFamily {
  name: string;
  help: string;
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  metrics: { value?: string; count?: string; sum?: string; labels?: Record<string, string>; buckets?: Record<string, string> }[];
}
