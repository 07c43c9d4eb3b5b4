/** The largest UDP payload IPv4 can carry (65535 − 20 IP − 8 UDP). */
export const MAX_UDP_PAYLOAD = 65507;
