"""Drives the farm studio page in headless Chromium (selenium + chromedriver).

Usage: studio_browser.py URL SONG LONG_SONG SCREENSHOT
Renders SONG through the page, watching the stage graph change (nodes, edges, chunk progress),
plays the finished video and reports its duration; then starts a clip of LONG_SONG and cancels it
while it runs; then opens the first render again from the past runs. Prints one JSON object.
"""
import json
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait


def edges(driver):
    """The drawn edges of the stage graph as [from, to] pairs."""
    return sorted([path.get_attribute("data-from"), path.get_attribute("data-to")]
                  for path in driver.find_elements(By.CSS_SELECTOR, "#stage-edges path"))


def main():
    url, song, long_song, screenshot = sys.argv[1:5]
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--autoplay-policy=no-user-gesture-required", "--window-size=1200,1400"]:
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    result = {}
    try:
        wait = WebDriverWait(driver, 180, poll_frequency=0.05)
        driver.get(url)
        wait.until(lambda d: any(o.get_attribute("value") == "offline"
                                 for o in d.find_elements(By.CSS_SELECTOR, "#profile option")))
        Select(driver.find_element(By.ID, "subject")).select_by_value("demo")
        Select(driver.find_element(By.ID, "profile")).select_by_value("offline")

        driver.find_element(By.ID, "file").send_keys(song)
        driver.find_element(By.ID, "start").click()
        seen = {}

        def record_stages():
            for item in driver.find_elements(By.CSS_SELECTOR, "#stages li"):
                try:
                    name = item.get_attribute("id")[len("stage-"):]
                    status = item.get_attribute("data-status")
                except Exception:
                    continue  # redrawn while read
                history = seen.setdefault(name, [])
                if not history or history[-1] != status:
                    history.append(status)

        deadline = time.time() + 180
        while time.time() < deadline:
            record_stages()
            if driver.find_element(By.ID, "current-state").text in ("succeeded", "failed", "interrupted"):
                break
            time.sleep(0.05)
        record_stages()  # the states the finished render left
        result["state"] = driver.find_element(By.ID, "current-state").text
        result["stages"] = seen
        result["stage_text"] = {i.get_attribute("id"): i.get_attribute("textContent")
                                for i in driver.find_elements(By.CSS_SELECTOR, "#stages li")}
        result["edges"] = edges(driver)
        result["media"] = [f.get_attribute("data-url") for f in driver.find_elements(By.CSS_SELECTOR, "#media figure")]
        wait.until(lambda d: d.execute_script("return document.getElementById('video').readyState >= 1"))
        driver.execute_script("const v = document.getElementById('video'); v.muted = true; v.play();")
        wait.until(lambda d: d.execute_script("return document.getElementById('video').currentTime > 0.2"))
        result["duration"] = driver.execute_script("return document.getElementById('video').duration")
        result["played"] = driver.execute_script("return document.getElementById('video').currentTime")
        driver.execute_script("const v = document.getElementById('video'); v.pause(); v.currentTime = 1.0;")
        wait.until(lambda d: d.execute_script("const v = document.getElementById('video'); return !v.seeking && v.readyState >= 2"))
        driver.save_screenshot(screenshot)

        driver.find_element(By.ID, "file").send_keys(long_song)
        driver.find_element(By.ID, "clip-start").send_keys("0:05")
        driver.find_element(By.ID, "clip-end").send_keys("30")
        driver.find_element(By.ID, "start").click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#stages li[data-status='running']"))
        driver.find_element(By.ID, "cancel").click()
        wait.until(lambda d: d.find_element(By.ID, "current-state").text in ("succeeded", "failed", "interrupted"))
        result["cancelled_state"] = driver.find_element(By.ID, "current-state").text
        result["runs_listed"] = len(driver.find_elements(By.CSS_SELECTOR, "#runs li"))

        # The first render again, as the store recorded it.
        wait.until(lambda d: any("succeeded" in li.text for li in d.find_elements(By.CSS_SELECTOR, "#runs li")))
        past = next(li for li in driver.find_elements(By.CSS_SELECTOR, "#runs li") if "succeeded" in li.text)
        past.find_element(By.CSS_SELECTOR, "button.show-run").click()
        wait.until(lambda d: d.find_element(By.ID, "current-state").text == "succeeded"
                   and len(d.find_elements(By.CSS_SELECTOR, "#stages li[data-status='succeeded']")) == len(result["stages"]))
        result["past_run"] = {
            "stages": {li.get_attribute("id")[len("stage-"):]: li.get_attribute("data-status")
                       for li in driver.find_elements(By.CSS_SELECTOR, "#stages li")},
            "stage_text": {li.get_attribute("id"): li.get_attribute("textContent")
                           for li in driver.find_elements(By.CSS_SELECTOR, "#stages li")},
            "edges": edges(driver),
            "video": driver.find_element(By.ID, "video").get_attribute("src"),
        }
        result["console_errors"] = [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    finally:
        driver.quit()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
