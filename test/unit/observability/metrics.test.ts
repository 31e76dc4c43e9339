import { expect } from 'chai';
import { Metrics } from '../../../src/observability/metrics';

describe('observability/metrics', () => {
  const sources = {
    associationsActive: () => 2,
    destinations: () => [{ name: 'pacs', state: 'down', queued: 3, oldestReceivedAt: 1000 }],
    spoolFreeBytes: () => 5e9,
    classifier: () => ({ model: 'bodyregion-cnn 2.4.0', provider: 'cuda' }),
    now: () => 61000,
  };

  it('reads the gauges from the router when scraped', async () => {
    const { body } = await new Metrics(sources).text();
    expect(body).to.include('bodyroute_associations_active 2');
    expect(body).to.include('bodyroute_destination_queue_depth{destination="pacs"} 3');
    expect(body).to.include('bodyroute_destination_oldest_pending_seconds{destination="pacs"} 60');
    expect(body).to.include('bodyroute_destination_state{destination="pacs",state="down"} 1');
    expect(body).to.include('bodyroute_destination_state{destination="pacs",state="up"} 0');
    expect(body).to.include('bodyroute_spool_free_bytes 5000000000');
    expect(body).to.include('bodyroute_classifier_info{model="bodyregion-cnn 2.4.0",provider="cuda"} 1');
  });

  it('has no classifier_info series while no classifier runs', async () => {
    const { body } = await new Metrics({ ...sources, classifier: () => undefined }).text();
    expect(body).not.to.match(/^bodyroute_classifier_info\{/m);
  });

  it('bounds what peers choose: at most 100 calling AE titles, then "other"; modalities CT, MR or other', async () => {
    const m = new Metrics(sources);
    for (let i = 0; i < 120; i++) m.objectStored({ callingAeTitle: `AE${i}`, bytes: 1, ackSeconds: 0.01 });
    m.classified({ modality: 'MRI', outcome: 'classified', region: 'knee', confidence: 0.9, inferenceSeconds: 0.002 });
    m.classified({ modality: 'XYZ<script>', outcome: 'unknown', confidence: 0.2 });
    const { body } = await m.text();
    expect(body.match(/bodyroute_objects_received_total\{/g)).to.have.length(101);
    expect(body).to.include('bodyroute_objects_received_total{calling_ae="other"} 20');
    expect(body).to.include('bodyroute_classifications_total{modality="MR",region="knee"} 1');
    expect(body).to.include('bodyroute_classifications_total{modality="other",region="unknown"} 1');
  });
});
