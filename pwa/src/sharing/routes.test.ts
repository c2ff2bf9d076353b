import { expect, test } from "vitest";
import { invitationLink, invitationRoute } from "./routes";

test("an invitation link names its kind after the token; the server's own link reads as a conversation", () => {
  const url = "https://fieldbook.example/#/invite/abc123";
  expect(invitationLink(url, "conversation")).toBe(url);
  expect(invitationLink(url, "group")).toBe(`${url}/group`);
  expect(invitationRoute("/invite/abc123")).toEqual({ token: "abc123", kind: "conversation" });
  expect(invitationRoute("/invite/abc123/supervision")).toEqual({ token: "abc123", kind: "supervision" });
  expect(invitationRoute("/invite/abc123/group")).toEqual({ token: "abc123", kind: "group" });
  expect(invitationRoute("/invite/abc123/somethingelse")).toEqual({ token: "abc123", kind: "conversation" });
  expect(invitationRoute("/entries")).toBeNull();
});
