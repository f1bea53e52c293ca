/**
 * The local mode runs each agent in a worker thread of its own process (local/fleet.ts), where no
 * signal reaches it: this message, posted to the thread, asks it to stop as SIGTERM asks an agent
 * process. Its own module, so the agent bundle and the local mode share it and nothing else.
 */
export const AGENT_STOP = 'berth-agent:stop';
