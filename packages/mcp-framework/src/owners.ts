/**
 * Who is calling: the owner of the request being handled, in an async context the bridge
 * enters for each request it lets through (and the session router for each message it hands
 * the framework's server), so code run for that request (the framework's handlers, the
 * tool, the task store) knows whose it is.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { RoutedSession } from "./session-router.js";

export interface CallerScope {
  /** The caller's owner key; undefined where the bridge did not see the request. */
  owner: string | undefined;
  /** HTTP Stream: the session whose message is being handled. */
  session?: RoutedSession;
}

export const callerScope = new AsyncLocalStorage<CallerScope>();

/** The owner of the request being handled, if any. */
export const ownerOfCall = (): string | undefined => callerScope.getStore()?.owner;
