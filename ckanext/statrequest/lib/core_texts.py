"""Texts of CKAN's own pages on the requester's journey (home, log in, register, password
reset, dashboard, error pages, header and footer) that CKAN's Indonesian catalogue leaves
untranslated.

Marking them here puts them into this extension's catalogue, and CKAN merges the catalogues of
its translation plugins over its own, so these pages read in Indonesian too. Each text must be
exactly CKAN's own message id (templates are extracted with whitespace trimmed);
tests/lib/test_core_texts.py checks that CKAN still uses each one, so an upgrade that rewords a
text shows up there instead of silently turning the page English again.
"""
from __future__ import annotations

from ckanext.statrequest.core.vocabulary import N_

CORE_TEXTS: tuple[str, ...] = (
    N_('E.g. environment'),
    N_('Search data'),
    N_('Search datasets'),
    N_('Popular tags'),
    N_('Search datasets with the tag: {tag}'),
    N_('Need an Account?'),
    N_('Then sign right up, it only takes a minute.'),
    N_('Create an Account'),
    N_('Forgotten your password?'),
    N_('No problem, use our password recovery form to reset it.'),
    N_('Why Sign Up?'),
    N_('Joe Bloggs'),
    N_('joe@example.com'),
    N_('Confirm'),
    N_('Profile picture'),
    N_('Profile picture URL'),
    N_('Profile settings'),
    N_('My Datasets'),
    N_('My Organizations'),
    N_('My Groups'),
    N_("You haven't created any datasets."),
    N_('Create one now?'),
    N_('You are not a member of any groups.'),
    N_('Add Organization'),
    N_('You are not a member of any organizations.'),
    N_('Manage'),
    N_('API Tokens'),
    N_('Email or username'),
    N_('Request Reset'),
    N_('Enter your email address or username into the box and we will send you an email with a '
       'link to enter a new password.'),
    N_("You're already logged in as {user}."),
    N_('Remember me'),
    N_('Log in'),
    N_("You're already logged in"),
    N_('You need to log out before you can log in with another account.'),
    N_('Log out now'),
    N_('Username or Email'),
    N_('Error %(error_code)s'),
    N_('You might need to login to access this page.'),
    N_('Click here to login'),
    N_('Sysadmin settings'),
    N_('View profile'),
    N_('View dashboard'),
    N_('Account'),
    N_('Navigate to Home - {site_title}'),
    N_('Toggle navigation'),
    N_('Search Datasets...'),
    N_('Search datasets...'),
    N_('Submit'),
    N_('About {0}'),
    N_('CKAN API'),
    N_('CKAN Association'),
    N_('<strong>Powered by</strong> <a class="hide-text ckan-footer-logo" href="http://ckan.org">CKAN</a>'),
    N_('Language'),  # the footer's language picker
    N_('Skip to main content'),
    N_('Breadcrumb'),
    N_('Name Ascending'),
    N_('Name Descending'),
    N_('Order by'),
    N_('Go'),
    N_('Remove applied filter: {value}'),
    N_('Remove'),
    N_('Filter Results'),
    N_('<p class="extra">Please try another search.</p>'),
    N_('<p id="search-error"><strong>There was an error while searching.</strong> Please try again.</p>'),
    N_('Required field'),
    N_('Subscribe to notification emails'),
    N_('Activity Stream'),
    N_('News feed'),
    N_('No activity found for this type'),
    N_('No activity found'),
    N_('Newer activities'),
    N_('Older activities'),
    N_("Activity from items that I'm following"),
    N_('Unauthorized to edit a user.'),
    N_('Password entered was incorrect'),
    N_('Old Password'),
    N_('incorrect password'),
    N_('Unauthorized to register as a user.'),
    N_('Login failed. Bad username or password or CAPTCHA.'),
    N_('Unauthorized to request reset password.'),
    N_('Email is required'),
    N_('Error sending the email. Try again later or contact an administrator for help'),
    N_('A reset link has been emailed to you (unless the account specified does not exist)'),
    N_('Unauthorized to reset password.'),
    N_('Must be at least %s characters long'),
    N_('Must be purely lowercase alphanumeric (ascii) characters and these symbols: -_'),
    N_('The username is already associated with another account. Please use a different username.'),
    N_('Your password must be 8 characters or longer'),
    N_('Email {email} is not a valid format'),
    N_("The email address '{email}' belongs to a registered user."),
)


def ngettext(singular: str, plural: str, n: int = 1) -> tuple[str, str]:  # noqa: ARG001
    """Marks a singular/plural pair for extraction (babel's `ngettext` keyword) without
    translating it here: CKAN's own template does, with the count."""
    return singular, plural


# CKAN's texts with a count, as (singular, plural)
CORE_PLURALS: tuple[tuple[str, str], ...] = (
    # the activity plugin's dashboard link in the header
    ngettext('Dashboard (%(num)d new item)', 'Dashboard (%(num)d new items)'),
)
