import { describe, expect, it } from "vitest";
import { objectMembers } from "../../functions/shared/http/json-scan.ts";

/** The members of the object at `start` (default: the first brace) as key → the text of its value. */
function membersOf(text: string, start = text.indexOf("{")): Record<string, string> {
  const bytes = Buffer.from(text);
  const members = objectMembers(bytes, Buffer.from(text.slice(0, start)).length);
  return Object.fromEntries([...members].map(([key, span]) => [key, bytes.subarray(span.valueStart, span.valueEnd).toString("utf8")]));
}

describe("objectMembers", () => {
  it("finds each member's value as written: numbers, literals, strings, arrays and objects, blanks around them left out", () => {
    const text = '{ "a" : 12345678901234567891 ,\n"b":1e0,\t"c" :true, "d": null , "e":"x y", "f":[1, {"g":2}] ,"h":{ "i": [] } }';
    expect(membersOf(text)).toEqual({
      a: "12345678901234567891",
      b: "1e0",
      c: "true",
      d: "null",
      e: '"x y"',
      f: '[1, {"g":2}]',
      h: '{ "i": [] }',
    });
  });

  it("lists only the object's own members, not those of nested objects", () => {
    const text = '{"outer":{"stream_options":{"include_usage":false}},"stream":true}';
    expect(Object.keys(membersOf(text))).toEqual(["outer", "stream"]);
  });

  it("reads a nested object's members from its brace", () => {
    const text = '{"stream":true, "stream_options" : { "include_obfuscation": false, "include_usage":false }}';
    const nested = text.indexOf("{", 1);
    expect(membersOf(text, nested)).toEqual({ include_obfuscation: "false", include_usage: "false" });
  });

  it("decodes escaped keys, as JSON.parse does", () => {
    const text = '{"stream\\u005foptions":{"include\\u005Fusage":false},"a\\"b":1,"c\\\\":2,"\\u00e9t\\u00e9":3}';
    expect(membersOf(text)).toEqual({ stream_options: '{"include\\u005Fusage":false}', 'a"b': "1", "c\\": "2", été: "3" });
    expect(membersOf(text, text.indexOf("{", 1))).toEqual({ include_usage: "false" });
  });

  it("is not misled by braces, brackets, commas, colons and quotes inside strings", () => {
    const text = '{"messages":[{"content":"}{ ][ \\"stream_options\\": {\\"x\\":1}, \\\\"}],"s":"\\\\","stream_options":null,"t":"a,b:c"}';
    expect(membersOf(text)).toEqual({
      messages: '[{"content":"}{ ][ \\"stream_options\\": {\\"x\\":1}, \\\\"}]',
      s: '"\\\\"',
      stream_options: "null",
      t: '"a,b:c"',
    });
  });

  it("counts multi-byte characters as the bytes they are", () => {
    const text = '{"emoji":"😀 日本語 é","stream_options":{"include_usage":false}}';
    const bytes = Buffer.from(text);
    const span = objectMembers(bytes, 0).get("stream_options");
    expect(bytes.subarray(span?.valueStart, span?.valueEnd).toString()).toBe('{"include_usage":false}');
    expect(span?.valueStart).toBe(Buffer.byteLength(text.slice(0, text.indexOf('{"include'))));
  });

  it("keeps the last of a repeated key, where JSON.parse takes its value from", () => {
    const text = '{"stream_options":{"include_usage":true},"stream":true,"stream_options":null}';
    const members = membersOf(text);
    expect(members.stream_options).toBe("null");
    expect(JSON.parse(members.stream_options as string)).toEqual((JSON.parse(text) as Record<string, unknown>).stream_options);
  });

  it("gives where a new first member goes, for an empty object and a body with a byte order mark or blanks before it", () => {
    expect(objectMembers(Buffer.from("{}"), 0)).toMatchObject({ size: 0, contentStart: 1 });
    expect(objectMembers(Buffer.from("{ \n }"), 0).size).toBe(0);
    const text = '\ufeff  {"stream":true}';
    const start = Buffer.from(text).indexOf(0x7b);
    expect(objectMembers(Buffer.from(text), start)).toMatchObject({ size: 1, contentStart: start + 1 });
  });

  it("agrees with JSON.parse on every member of varied bodies", () => {
    const bodies = [
      '{"model":"gpt-4o","messages":[{"role":"user","content":"{\\"a\\":[1,2]}"}],"stream":true,"n":-1.5E+3}',
      '{\r\n\t"tools" : [ { "type":"function", "function":{"name":"f","parameters":{"type":"object","properties":{}}} } ] ,\r\n\t"x":"\\/\\b\\f\\n\\r\\t"\r\n}',
      '{"":0,"\\u0000":"\\ud83d\\ude00","deep":[[[[{"a":[{"b":{}}]}]]]],"last":false}',
    ];
    for (const text of bodies) {
      const parsed = JSON.parse(text) as Record<string, unknown>;
      const members = membersOf(text);
      expect(Object.keys(members).sort()).toEqual(Object.keys(parsed).sort());
      for (const [key, value] of Object.entries(members)) expect(JSON.parse(value)).toEqual(parsed[key]);
    }
  });
});
