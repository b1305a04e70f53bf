// LLaMA-Factory's dataset_info.json is the user's registry of every dataset in a data folder.
// An export adds its entry to it and never replaces the file: an entry of the same name that
// is not exactly the same is a clash, reported naming both; an identical entry (the same
// export run again) changes nothing.

export class DatasetInfoClash extends Error {}

type Entry = Record<string, unknown>;

const describe = (name: string, e: unknown) => {
  const file = typeof e === 'object' && e !== null && typeof (e as Entry).file_name === 'string' ? ` (file_name "${(e as Entry).file_name}")` : '';
  return `"${name}"${file}`;
};

/** The merged file's text, or throws DatasetInfoClash / an Error naming `where` when the
 *  existing text is not a JSON object. `existing` undefined: no file yet. */
export function mergeDatasetInfo(existing: string | undefined, entries: Record<string, Entry>, where = 'dataset_info.json'): { text: string; added: string[]; unchanged: string[] } {
  let current: Entry = {};
  if (existing !== undefined && existing.trim() !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(existing);
    } catch (err) {
      throw new Error(`${where} exists but is not valid JSON (${(err as Error).message.slice(0, 120)}); it was left as it was — fix it or export to another folder`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${where} exists but is not a JSON object of datasets; it was left as it was — export to another folder`);
    current = parsed as Entry;
  }
  const added: string[] = [];
  const unchanged: string[] = [];
  for (const [name, entry] of Object.entries(entries)) {
    if (!Object.hasOwn(current, name)) {
      added.push(name);
      continue;
    }
    if (JSON.stringify(current[name]) === JSON.stringify(entry)) {
      unchanged.push(name);
      continue;
    }
    throw new DatasetInfoClash(
      `${where} already has a dataset ${describe(name, current[name])}; this export's dataset ${describe(name, entry)} has the same name. Nothing was written: choose another --dataset-name, or remove the old entry yourself`,
    );
  }
  const merged = { ...current };
  for (const name of added) merged[name] = entries[name];
  return { text: JSON.stringify(merged, null, 2) + '\n', added, unchanged };
}
