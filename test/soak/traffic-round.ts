// What one round of the traffic stage reports (traffic-probe.ts prints it, traffic.ts adds them up).
export interface TrafficRound {
  downloads: number;
  downloadBytes: number;
  uploads: number;
  uploadBytes: number;
  udpSent: number;
  udpEchoed: number;
  udpBytes: number;
  corrupted: number;
  interrupted: number;
  notes: string[];
}

export function emptyRound(): TrafficRound {
  return {
    downloads: 0,
    downloadBytes: 0,
    uploads: 0,
    uploadBytes: 0,
    udpSent: 0,
    udpEchoed: 0,
    udpBytes: 0,
    corrupted: 0,
    interrupted: 0,
    notes: [],
  };
}
