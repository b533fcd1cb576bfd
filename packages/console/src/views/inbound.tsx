/** Inbound endpoints: the URLs providers post to. `?new=1` shows the create form. */
import { api, type Page } from '../api';
import { href, navigate } from '../router';
import type { InboundEndpoint } from '../types';
import { Badge, Command, CopyButton, Empty, ErrorNote, ListTable, PageHeader, Time } from '../ui';
import { curl } from './curl';
import { InboundForm } from './inbound-form';
import { usePolledList } from './polled-list';
import './inbound.css';

export const providerOf = (e: InboundEndpoint) => String(e.verification.type ?? 'unknown');

export function InboundView({ query }: { params: Record<string, string>; query: URLSearchParams }) {
  if (query.get('new') === '1') return <InboundForm />;
  return <InboundList />;
}

function InboundList() {
  const list = usePolledList<InboundEndpoint>((cursor) => api.get<Page<InboundEndpoint>>('/inbound-endpoints', { limit: 50, cursor }), []);
  return (
    <section>
      <PageHeader title="Inbound">
        <button type="button" onClick={() => navigate('/inbound', { new: '1' })}>
          New inbound endpoint
        </button>
      </PageHeader>
      <p class="muted">Webhooks you receive: give a provider an ingest URL; Hookbridge verifies, deduplicates, and forwards or holds each event.</p>
      <ErrorNote error={list.error} />
      <ListTable list={list} empty={<NoInbound />}>
        {(items) => (
          <table aria-label="Inbound endpoints">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Provider</th>
                <th scope="col" class="optional">
                  Mode
                </th>
                <th scope="col">Status</th>
                <th scope="col">Ingest URL</th>
                <th scope="col" class="optional">
                  Created
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((e) => (
                <tr key={e.id}>
                  <td>
                    <a href={href(`/inbound/${encodeURIComponent(e.id)}`)}>{e.name}</a>
                  </td>
                  <td>
                    <code>{providerOf(e)}</code>
                  </td>
                  <td class="optional">{e.mode}</td>
                  <td>
                    <Badge value={e.status} />
                  </td>
                  <td class="ingest">
                    <span class="ingest-url">
                      <code>{e.ingest_url}</code>
                      <CopyButton text={e.ingest_url} label="Copy URL" />
                    </span>
                  </td>
                  <td class="optional">
                    <Time iso={e.created_at} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </ListTable>
    </section>
  );
}

function NoInbound() {
  return (
    <Empty title="No inbound endpoints yet">
      <p>
        Create one per provider (Stripe, GitHub, Shopify, Slack…) with the <a href={href('/inbound', { new: '1' })}>New inbound endpoint</a> form, then
        paste its ingest URL into the provider’s webhook settings. From the CLI:
      </p>
      <Command text="hookbridge inbound endpoints create --name stripe --preset stripe --secret whsec_… --destination http://127.0.0.1:3000/stripe" />
      <p class="muted">or with curl:</p>
      <Command
        text={curl('POST', '/inbound-endpoints', {
          name: 'stripe',
          mode: 'forward',
          destination_url: 'http://127.0.0.1:3000/stripe',
          verification: { type: 'stripe', secret: 'whsec_…' },
        })}
      />
      <p class="muted">
        Developing locally? <code>hookbridge listen --forward-to http://localhost:3000/webhooks</code> makes a cli-mode endpoint and streams its events
        to your machine.
      </p>
    </Empty>
  );
}
