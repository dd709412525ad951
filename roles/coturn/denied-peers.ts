/**
 * Where coturn must never relay to (CVE-2020-26262: TURN into the host's private networks, a
 * Docker bridge's Redis included): private, loopback, link-local, CGNAT, documentation, benchmark,
 * multicast and reserved ranges, IPv4 and IPv6, as coturn's inclusive ranges.
 */
export const DENIED_PEER_RANGES = [
  "0.0.0.0-0.255.255.255", // "this" network
  "10.0.0.0-10.255.255.255", // private
  "100.64.0.0-100.127.255.255", // CGNAT
  "127.0.0.0-127.255.255.255", // loopback
  "169.254.0.0-169.254.255.255", // link-local
  "172.16.0.0-172.31.255.255", // private (Docker's bridges)
  "192.0.0.0-192.0.0.255", // IETF protocol assignments
  "192.0.2.0-192.0.2.255", // TEST-NET-1
  "192.88.99.0-192.88.99.255", // 6to4 relay anycast
  "192.168.0.0-192.168.255.255", // private
  "198.18.0.0-198.19.255.255", // benchmarking
  "198.51.100.0-198.51.100.255", // TEST-NET-2
  "203.0.113.0-203.0.113.255", // TEST-NET-3
  "224.0.0.0-239.255.255.255", // multicast
  "240.0.0.0-255.255.255.255", // reserved, broadcast
  "::-::", // unspecified
  "::1-::1", // loopback
  "::ffff:0.0.0.0-::ffff:255.255.255.255", // IPv4-mapped
  "64:ff9b::-64:ff9b::ffff:ffff", // NAT64
  "64:ff9b:1::-64:ff9b:1:ffff:ffff:ffff:ffff:ffff", // local NAT64
  "100::-100::ffff:ffff:ffff:ffff", // discard
  "2001::-2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", // Teredo, benchmarking, ORCHID
  "2001:db8::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", // documentation
  "2002::-2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff", // 6to4
  "fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", // unique local
  "fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", // link-local
  "ff00::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", // multicast
];
