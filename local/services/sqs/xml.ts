import { escapeXml, toXml } from '../../../shared/aws-protocol/query';

/** SQS's lists and maps are flattened: each item repeats the element its model names. */
const FLATTENED_LISTS: Readonly<Record<string, string>> = { QueueUrls: 'QueueUrl', Messages: 'Message' };
const FLATTENED_MAPS: Readonly<Record<string, string>> = { Attributes: 'Attribute', MessageAttributes: 'MessageAttribute' };

/** A result as SQS's query XML: `<QueueUrl>` per URL, `<Attribute><Name/><Value/></Attribute>` per map entry. */
export function sqsXml(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'object') return escapeXml(String(value));
  return Object.entries(value).filter(([, v]) => v !== undefined && v !== null).map(([k, v]) => {
    if (FLATTENED_LISTS[k] && Array.isArray(v)) return v.map((item) => `<${FLATTENED_LISTS[k]}>${sqsXml(item)}</${FLATTENED_LISTS[k]}>`).join('');
    if (FLATTENED_MAPS[k]) {
      const e = FLATTENED_MAPS[k];
      return Object.entries(v as object).map(([name, x]) => `<${e}><Name>${escapeXml(name)}</Name><Value>${sqsXml(x)}</Value></${e}>`).join('');
    }
    return `<${k}>${Array.isArray(v) ? toXml(v) : sqsXml(v)}</${k}>`;
  }).join('');
}
