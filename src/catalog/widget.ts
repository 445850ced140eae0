/**
 * Widget settings served by `GET /v1/catalog/settings`, in the keys and string encoding of Recharge's CDN
 * `widget_settings.json` (2021-08), so widget code written against the CDN runs unchanged. The Recharge REST API does
 * not expose the merchant's widget configuration, so these are neutral defaults a storefront may override.
 */
export const defaultWidgetSettings: Readonly<Record<string, string>> = Object.freeze({
  active_color: '#000000',
  background_color: '#efefef',
  display_on: '["product"]',
  first_option: 'onetime',
  font_color: '#040404',
  form_type: 'button',
  how_it_works:
    '<strong>How subscriptions work</strong><br>Products are automatically delivered on your schedule. No obligation, modify or cancel your subscription anytime.',
  learnmore_verbiage: 'Learn more...',
  onetime_message: 'One-time purchase',
  published: 'true',
  select_subscription_first: 'false',
  show_learnmore: 'false',
  show_poweredby: 'false',
  show_subscription_details: 'true',
  subscribe_and_save_extended_label: 'on every recurring order',
  subscribe_message: 'Subscribe &amp; save',
  subscribe_without_discount_message: 'Subscribe',
  subscription_details_verbiage: 'Subscription details',
  translations: '{"days":"Days","month":"Month","months":"Months","week":"Week","weeks":"Weeks"}',
  widget_charge_every: 'Charge every',
  widget_deliver_every: 'Delivery every',
})
