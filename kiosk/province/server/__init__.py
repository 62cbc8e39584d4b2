"""The province server (SPEC 7): a Django project served by gunicorn, laid out as Django
expects: settings (setup.py, settings.py), the URLs and WSGI here, and three apps beside it,
each with its models, views, forms, urls, templates and migrations:

- kiosk.province.fleet: boards, heartbeats, plays, commands, the fleet API and metrics;
- kiosk.province.bulletins: channels, bulletins, approval, publishing, imports, reports, audit;
- kiosk.province.accounts: roles, channels of an account, API tokens, login.

housekeeping.py is the periodic work across them. Only `kiosk province` imports this
package; the board never does.
"""
