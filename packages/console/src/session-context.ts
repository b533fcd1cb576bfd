import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Credential } from './session';
import type { PortalSession } from './types';

export interface SessionInfo {
  credential: Credential;
  /** The admin key: may manage projects (the Projects view). */
  admin: boolean;
  /** Set when this is a consumer portal session: views show only what the consumer may use. */
  portal: PortalSession | null;
  signOut: () => void;
}

export const SessionContext = createContext<SessionInfo | null>(null);

export function useSession(): SessionInfo {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside a signed-in console');
  return s;
}

/** A portal session that may not change anything (read_only: true). */
export const canWrite = (s: SessionInfo) => !s.portal?.read_only;
