"""The approvers' web page in a real browser (Debian's chromium + chromedriver,
driven by selenium; no driver or browser is downloaded at run time).

Usage: ui_browser.py LINK REQUEST_ID SCREENSHOT_DIR

Follows the one-time sign-in LINK made by `tvm ui`, signs in, finds the pending
request REQUEST_ID in the list, opens it, approves it with a comment, and
prints one JSON line: what the pages showed. Screenshots of the pending list and
of the detail page go to SCREENSHOT_DIR. Exits non-zero on any failure.
"""

import json
import os
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

# Generous: a loaded 2-core CI machine starts chromium slowly.
WAIT_SECONDS = 60


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


def main():
    link, request_id, shots = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(shots, exist_ok=True)
    seen = {}
    d = driver()
    d.set_page_load_timeout(WAIT_SECONDS)
    wait = WebDriverWait(d, WAIT_SECONDS)
    try:
        # The link's GET shows only the button; the click spends the code.
        d.get(link)
        button = wait.until(EC.element_to_be_clickable((By.ID, "sign-in")))
        seen["login_title"] = d.title
        button.click()
        wait.until(EC.presence_of_element_located((By.ID, "signed-in-arn")))
        seen["after_sign_in"] = d.current_url
        seen["signed_in_arn"] = d.find_element(By.ID, "signed-in-arn").text
        cookies = {c["name"]: c for c in d.get_cookies()}
        session = cookies.get("__Host-tvm-session", {})
        seen["session_cookie"] = {
            "httpOnly": session.get("httpOnly"),
            "secure": session.get("secure"),
            "sameSite": session.get("sameSite"),
            "path": session.get("path"),
        }

        # The pending list shows the request made by another demo user.
        table = wait.until(EC.presence_of_element_located((By.ID, "to-review")))
        link_to_request = table.find_element(
            By.CSS_SELECTOR, f'a[href="/ui/requests/{request_id}"]'
        )
        seen["list_row"] = link_to_request.find_element(By.XPATH, "./ancestor::tr").text
        d.save_screenshot(os.path.join(shots, "pending-list.png"))
        # Readable on a phone: the same list at a phone's width.
        d.set_window_size(390, 844)
        d.save_screenshot(os.path.join(shots, "pending-list-phone.png"))
        d.set_window_size(1280, 900)

        # Keyboard reachable: the request's link takes focus.
        link_to_request.click()
        wait.until(EC.presence_of_element_located((By.ID, "approve")))
        seen["detail_reason"] = d.find_element(By.ID, "reason").text
        seen["detail_status"] = d.find_element(By.ID, "status").text
        seen["detail_arn"] = d.find_element(By.ID, "signed-in-arn").text
        d.find_element(By.ID, "comment").send_keys("looks right, approved from the browser")
        d.save_screenshot(os.path.join(shots, "request-detail.png"))

        d.find_element(By.ID, "approve").click()
        wait.until(EC.text_to_be_present_in_element((By.ID, "status"), "approved"))
        seen["status_after"] = d.find_element(By.ID, "status").text
        seen["approvals"] = d.find_element(By.ID, "approvals").text
        seen["audit"] = d.find_element(By.ID, "audit").text
        d.save_screenshot(os.path.join(shots, "request-approved.png"))
    except Exception as e:  # show where it stopped
        seen["error"] = f"{type(e).__name__}: {e}"
        seen["url"] = d.current_url
        seen["page"] = d.page_source[:4000]
        print(json.dumps(seen))
        d.quit()
        sys.exit(1)
    d.quit()
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
