"""The web page's sessions and revocations (DESIGN §13) in a real browser
(Debian's chromium + chromedriver, driven by selenium; nothing downloaded).

Usage: ui_revocation_browser.py SCREENSHOT_DIR REVOKED_KEY SPARED_KEY OWN_KEY

Sign-in links are asked for on stdout (`need admin`, `need user`) and read
from stdin one line each, so each is fresh when the browser follows it (a
link lives 60 s). The admin signs in, sees every live session, tries to
revoke SPARED_KEY with the form's CSRF token removed (refused), revokes
REVOKED_KEY with a hostile reason, and reads the revocation with its role
status. Then a non-admin signs in and sees only OWN_KEY. Prints one JSON
line of what the pages showed; exits non-zero on any failure.
"""

import json
import os
import sys

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

WAIT_SECONDS = 60
HOSTILE = "<script>alert(1)</script>\u202egnp.exe <img src=x onerror=alert(2)>"


def driver():
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
        "--no-first-run",
        "--disable-extensions",
    ):
        opts.add_argument(arg)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


def ask(label):
    print(f"need {label}", flush=True)
    return sys.stdin.readline().strip()


def sign_in(d, wait, label):
    d.delete_all_cookies()
    d.get(ask(label))
    wait.until(EC.element_to_be_clickable((By.ID, "sign-in"))).click()
    wait.until(EC.presence_of_element_located((By.ID, "signed-in-arn")))
    return d.find_element(By.ID, "signed-in-arn").text


def no_alert(d):
    try:
        d.switch_to.alert
        return False
    except NoAlertPresentException:
        return True


def main():
    shots, revoked, spared, own = sys.argv[1:5]
    os.makedirs(shots, exist_ok=True)
    seen = {}
    d = driver()
    d.set_page_load_timeout(WAIT_SECONDS)
    wait = WebDriverWait(d, WAIT_SECONDS)
    try:
        seen["admin_arn"] = sign_in(d, wait, "admin")
        seen["admin_landed"] = d.current_url
        table = wait.until(EC.presence_of_element_located((By.ID, "sessions")))
        seen["admin_sessions"] = table.text
        seen["nav"] = [a.text for a in d.find_elements(By.CSS_SELECTOR, "nav.sections a")]
        d.save_screenshot(os.path.join(shots, "sessions-admin.png"))

        # A form whose CSRF token was taken out is refused, changing nothing.
        d.execute_script(
            "const f = document.querySelector(arguments[0]);"
            "f.querySelector('input[name=csrf]').remove();"
            "f.querySelector('input[name=reason]').value = 'no token';"
            "f.submit();",
            f'form[action="/ui/sessions/{spared}/revoke"]',
        )
        wait.until(EC.presence_of_element_located((By.ID, "error")))
        seen["no_csrf_title"] = d.find_element(By.TAG_NAME, "h1").text
        seen["no_csrf_error"] = d.find_element(By.ID, "error").text

        # Revoke one session with a hostile reason, from the keyboard.
        d.find_element(By.LINK_TEXT, "Sessions").click()
        box = wait.until(EC.presence_of_element_located((By.ID, f"reason-{revoked}")))
        box.send_keys(HOSTILE)
        box.find_element(By.XPATH, "./ancestor::form//button").click()
        wait.until(EC.presence_of_element_located((By.ID, "roles")))
        seen["revocation_url"] = d.current_url
        seen["revocation_reason"] = d.find_element(By.ID, "reason").text
        seen["revocation_kind"] = d.find_element(By.ID, "kind").text
        seen["revocation_target"] = d.find_element(By.ID, "target").text
        seen["roles"] = d.find_element(By.ID, "roles").text
        seen["lift_form"] = len(d.find_elements(By.ID, "lift-reason"))
        seen["scripts"] = len(d.find_elements(By.TAG_NAME, "script"))
        seen["images"] = len(d.find_elements(By.TAG_NAME, "img"))
        seen["no_alert"] = no_alert(d)
        d.save_screenshot(os.path.join(shots, "revocation-admin.png"))
        d.find_element(By.LINK_TEXT, "Revocations").click()
        wait.until(EC.presence_of_element_located((By.ID, "revocations")))
        seen["admin_revocations"] = d.find_element(By.ID, "revocations").text
        d.find_element(By.LINK_TEXT, "Sessions").click()
        wait.until(EC.presence_of_element_located((By.ID, "sessions")))
        seen["admin_sessions_after"] = d.find_element(By.ID, "sessions").text

        # A non-admin: their own sessions only, nobody else's revocations.
        seen["user_arn"] = sign_in(d, wait, "user")
        seen["user_sessions"] = wait.until(
            EC.presence_of_element_located((By.ID, "sessions"))
        ).text
        seen["user_scope"] = d.find_element(By.ID, "scope").text
        d.save_screenshot(os.path.join(shots, "sessions-user.png"))
        d.get(seen["revocation_url"])
        wait.until(EC.presence_of_element_located((By.ID, "error")))
        seen["user_other_revocation"] = d.find_element(By.TAG_NAME, "h1").text
        d.find_element(By.LINK_TEXT, "Revocations").click()
        wait.until(EC.presence_of_element_located((By.ID, "scope")))
        seen["user_revocations_empty"] = len(d.find_elements(By.ID, "no-revocations"))
    except Exception as e:  # show where it stopped
        seen["error"] = f"{type(e).__name__}: {e}"
        seen["url"] = d.current_url
        seen["page"] = d.page_source[:4000]
        print(json.dumps(seen), flush=True)
        d.quit()
        sys.exit(1)
    d.quit()
    print(json.dumps(seen), flush=True)


if __name__ == "__main__":
    main()
