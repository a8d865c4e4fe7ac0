// A request body that is valid JSON but that Druid's classes refuse (unknown type, a missing
// required field): Druid answers 400 `{"error": <message>}` with Jackson's words, which the
// message repeats. Shared by the supervisor, compaction and rules parts of the double.
export class BodyRejected extends Error {}
