// The confirmation page of an action on one tenant admin: it names the admin and their tenant,
// so the platform admin sees whom they are about to act on (tenant page and MFA reset alike).
import type { Context } from 'koa';
import type { ServiceContext } from '../context.js';
import { confirmPage, type Confirmation } from '../pages/admin-pages.js';
import { csrf } from './http.js';

/** The rows a confirmation shows first: who, and of which tenant. */
export const aboutAdmin = (email: string, tenant: { name: string; slug: string }): Confirmation['about'] => [
  { label: 'Admin', value: email },
  { label: 'Tenant', value: `${tenant.name} (${tenant.slug})` },
];

type Wording = Pick<Confirmation, 'title' | 'consequence' | 'button'>;

const WORDING = {
  disable: (email: string): Wording => ({
    title: `Disable ${email}?`,
    consequence: `${email} is signed out now and cannot sign in until re-enabled. Their authenticator and email are kept.`,
    button: 'Disable and sign them out',
  }),
  'sign-out': (email: string): Wording => ({
    title: `Sign ${email} out everywhere?`,
    consequence: `Every session of ${email} ends now. The account stays enabled: they can sign in again with their password and authenticator.`,
    button: 'Sign them out everywhere',
  }),
  'password-reset': (email: string): Wording => ({
    title: `Give ${email} a temporary password?`,
    consequence:
      'Their current password stops working and every session of theirs ends now. You will see a temporary password once, to hand over; they choose a new one at their next sign-in. Their authenticator stays.',
    button: 'Reset their password',
  }),
  'mfa-reset': (email: string): Wording => ({
    title: `Reset ${email}’s MFA?`,
    consequence:
      'Their authenticator and recovery codes stop working and every session of theirs ends now; at their next sign-in they must enrol a new authenticator. You can roll this back from the MFA history.',
    button: 'Reset MFA and sign them out',
  }),
};

/**
 * Looks the admin up first (an admin of another tenant is a 404, before anything is asked) and
 * returns the page for confirmedOrAsk.
 */
export async function askAboutAdmin(
  c: ServiceContext,
  ctx: Context,
  tenantId: string,
  adminId: string,
  action: keyof typeof WORDING,
) {
  const { tenant, admin } = await c.tenantsLib.getAdmin(tenantId, adminId);
  return (fields: Record<string, string>) =>
    confirmPage(csrf(ctx), {
      ...WORDING[action](admin.email),
      about: aboutAdmin(admin.email, tenant),
      action: ctx.path,
      back: `/admin/tenants/${tenantId}`,
      fields,
    });
}
