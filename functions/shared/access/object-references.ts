/**
 * The stored objects a JSON request body points at: the response it continues
 * (`previous_response_id`), its conversation, the files, vector stores and
 * containers it uses. A caller may only point at its own: another key's
 * response or file must not be read through a request of its.
 *
 * The fields are looked for at any depth (a file id sits in a message's
 * content part, a vector store id in a tool), since OpenAI's bodies nest them
 * in many places; their values are ids, never free text.
 */

/** One reference: the field that holds it and the object id. */
export interface ObjectReference {
  readonly field: string;
  readonly id: string;
}

/** Fields whose value is one object id. */
const ID_FIELDS = new Set([
  "previous_response_id",
  "conversation",
  "conversation_id",
  "file_id",
  "input_file_id",
  "training_file",
  "validation_file",
  "vector_store_id",
  "container",
  "container_id",
]);
/** Fields whose value is a list of object ids. */
const ID_LIST_FIELDS = new Set(["file_ids", "vector_store_ids"]);
/**
 * Ids of objects that live inside another and are reached only through it
 * (a container's files `cfile_…`): the parent's id is what is checked.
 */
const CHILD_ID = /^cfile_/;
/** What a body must contain for any of the fields to be there (`"file_id"` also as an eval source's type): a cheap test before walking it. */
const MARKERS = [...ID_FIELDS, ...ID_LIST_FIELDS].map((field) => Buffer.from(`"${field}"`));

/** The references in a request body; `raw` is its text, checked first so that most bodies are never walked. */
export function findReferences(json: unknown, raw: Uint8Array): ObjectReference[] {
  const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  if (!MARKERS.some((marker) => bytes.includes(marker))) return [];
  const found: ObjectReference[] = [];
  walk(json, found);
  return found;
}

function walk(value: unknown, found: ObjectReference[]): void {
  if (Array.isArray(value)) {
    for (const item of value) walk(item, found);
    return;
  }
  if (typeof value !== "object" || value === null) return;
  const object = value as Record<string, unknown>;
  // An eval's data source names its file as {"type": "file_id", "id": "file-…"}.
  if (object.type === "file_id" && typeof object.id === "string") add(found, "id", object.id);
  for (const [field, member] of Object.entries(object)) {
    if (ID_FIELDS.has(field)) {
      if (typeof member === "string") add(found, field, member);
      // A conversation is an id or {"id": …}; a code interpreter's container an id or {"type": "auto", "file_ids": […]}.
      else if (typeof member === "object" && member !== null && typeof (member as { id?: unknown }).id === "string") {
        add(found, field, (member as { id: string }).id);
      }
    }
    if (ID_LIST_FIELDS.has(field) && Array.isArray(member)) {
      for (const item of member) if (typeof item === "string") add(found, field, item);
    }
    if (typeof member === "object" && member !== null) walk(member, found);
  }
}

function add(found: ObjectReference[], field: string, id: string): void {
  if (id !== "" && !CHILD_ID.test(id)) found.push({ field, id });
}
