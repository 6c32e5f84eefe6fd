/**
 * What a resolved address means for the chain: inside the cluster VPC (the private endpoint, reached over
 * the peering), public (the public endpoint: traffic leaves through NAT or the internet), private but
 * elsewhere, or special (loopback, link-local: a hosts file or a test). Classification never decides where
 * the probe connects: that is always the resolved address itself.
 */
import { isIP } from "node:net";
import { cidrHas } from "../domain/cidr.js";
import type { AddressClassification } from "./types.js";

export type AddressClass = "cluster" | "public" | "private" | "special" | "ipv6";

const PRIVATE = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"];
const SPECIAL = ["127.0.0.0/8", "169.254.0.0/16", "0.0.0.0/8", "224.0.0.0/4", "240.0.0.0/4"];

export interface Classifier {
  clusterCidrs: string[];
  publicCidrs: string[];
  classify(address: string): AddressClass;
}

export function classifier(clusterCidr: string, options: AddressClassification = {}): Classifier {
  const clusterCidrs = options.clusterCidrs ?? [clusterCidr];
  const publicCidrs = options.publicCidrs ?? [];
  return {
    clusterCidrs,
    publicCidrs,
    classify(address) {
      if (isIP(address) === 6) return "ipv6";
      if (clusterCidrs.some((c) => cidrHas(c, address))) return "cluster";
      if (publicCidrs.some((c) => cidrHas(c, address))) return "public";
      if (PRIVATE.some((c) => cidrHas(c, address))) return "private";
      if (SPECIAL.some((c) => cidrHas(c, address))) return "special";
      return "public";
    },
  };
}
