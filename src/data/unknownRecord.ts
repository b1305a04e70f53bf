// Records whose layout the importer does not read: one rejection per record that says there is
// no conversation in it and names the fields it has — and, when a whole file is made of such
// records and nothing could be imported, one rejection for the file (standing for all of them).
import { listFields, recordPrefix, type Rejection, type Where } from './record.ts';

export const LAYOUTS_READ =
  'the importer reads "conversations" or "messages" lists, trajectories ("steps"), transcripts, input/output step records, or a "trace" with its goal; see docs/data.md';

/** Field names kept on a rejection (the reason counts the rest). */
const MAX_FIELDS = 50;

export function unknownRecordRejection(record: Record<string, unknown>, where: Where): Rejection {
  const names = Object.keys(record);
  const fields = names.slice(0, MAX_FIELDS);
  const has = names.length === 1 ? `its only field is ${listFields(names)}` : `its fields are ${listFields(names)}`;
  return { ...where, fields, reason: `${recordPrefix(where)}no conversation or trajectory in this record: ${has} (${LAYOUTS_READ})` };
}

const signature = (r: Rejection) => (r.fields ? JSON.stringify([...r.fields].sort()) : undefined);
const count = (n: number) => (n === 1 ? '1 has' : `${n} have`);

/** A file where nothing was imported and every rejection is a record of an unread layout: one
 *  rejection for the file, naming the fields of each shape found and counting the records (the
 *  first record's line and path; `fields` are those of the most common shape). */
export function refuseUnknownFile(rejected: Rejection[], imported: number): Rejection[] {
  if (imported > 0 || rejected.length < 2 || !rejected.every((r) => r.fields !== undefined)) return rejected;
  const shapes = new Map<string, Rejection[]>();
  for (const r of rejected) {
    const sig = signature(r)!;
    shapes.set(sig, [...(shapes.get(sig) ?? []), r]);
  }
  const groups = [...shapes.values()].sort((a, b) => b.length - a.length);
  const first = rejected[0];
  const fields = groups[0][0].fields!;
  const described =
    groups.length === 1
      ? `no conversation or trajectory, only the fields ${listFields(fields)}`
      : `no conversation or trajectory: ${groups
          .slice(0, 3)
          .map((g) => `${count(g.length)} the fields ${listFields(g[0].fields!)}`)
          .join('; ')}${groups.length > 3 ? `; ${groups.length - 3} more shapes` : ''}`;
  return [
    {
      file: first.file,
      ...(first.line !== undefined && { line: first.line }),
      ...(first.path !== undefined && { path: first.path }),
      fields,
      records: rejected.length,
      reason: `${groups.length === 1 ? `all ${rejected.length} records have a layout the importer does not read` : `none of the ${rejected.length} records has a layout the importer reads`} — ${described} (${LAYOUTS_READ})`,
    },
  ];
}

/** Records rejected: a rejection standing for several records counts each of them. */
export function rejectedRecords(rejected: readonly Rejection[]): number {
  return rejected.reduce((n, r) => n + (r.records ?? 1), 0);
}
