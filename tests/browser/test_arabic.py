"""An Arabic speaker registers: the page is Arabic and right to left, the welcome email is Arabic.
Screenshots are kept in reports/browser/ (look at them: they are the evidence of the layout)."""
from __future__ import annotations

import uuid

from tests.browser.conftest import TOPICS, mail_to, submit


def test_an_arabic_journey_right_to_left_from_the_form_to_the_welcome_email(visit, stack, seeded, reports):
    tab = visit(timezone_id="Africa/Cairo", locale="ar-EG")
    page = tab.page
    tab.go("/")
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("link", name="العربية").click()  # the language switch, no script needed
    html = page.locator("html")
    assert html.get_attribute("lang") == "ar" and html.get_attribute("dir") == "rtl"
    page.get_by_role("navigation", name="القائمة الرئيسية").get_by_role("link", name="التسجيل").click()
    page.wait_for_url("**/register")
    assert page.get_by_role("heading", level=1).inner_text() == "التسجيل في هيّا نتواصل"
    assert html.get_attribute("dir") == "rtl"  # the choice is remembered from page to page
    # laid out right to left: the brand sits at the right, the first field's label starts at the right edge
    brand, switch = page.locator(".brand").bounding_box(), page.locator(".language-switch").bounding_box()
    assert brand["x"] > switch["x"]
    label, field = page.locator("label[for=username]").bounding_box(), page.locator("#username").bounding_box()
    assert abs((label["x"] + label["width"]) - (field["x"] + field["width"])) < 2
    assert page.locator("#timezone").input_value() == "Africa/Cairo"
    tag = uuid.uuid4().hex[:6]
    email = f"amina.{tag}@example.org"
    page.get_by_label("اسم المستخدم في ميتا ويكي").fill(f"أمينة {tag}")
    page.get_by_label("اسمك").fill("أمينة")
    page.get_by_label("البريد الإلكتروني").fill(email)
    page.get_by_label("اللغة الأولى").select_option("ar")
    page.locator("#languages-2").select_option("fr")
    page.get_by_label("المنطقة", exact=True).select_option("mena")
    page.get_by_label("اسم مجموعتك").fill("ويكيميديا مصر")
    page.get_by_label("نوع المجموعة").select_option("user_group")
    page.get_by_label("دورك في المجموعة").select_option("core_team")
    page.get_by_label("التنظيم: التخطيط والفعاليات والتقييم وإدارة مجموعتنا").check()
    page.check(f"#learn-{TOPICS[0]}")
    page.get_by_label("اعرض ملفي الشخصي في الدليل العام").check()
    page.get_by_label("شارك عنوان بريدي الإلكتروني مع الأشخاص الذين أُربط بهم").check()
    assert page.get_by_text("موضوع للبداية").first.is_visible()  # starter topics are marked
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(reports / "arabic-registration-form-top.png"))
    page.screenshot(path=str(reports / "arabic-registration-form.png"), full_page=True)
    submit(page, page.get_by_role("button", name="التسجيل", exact=True))
    page.wait_for_url("**/register/welcome")
    assert page.get_by_role("heading", level=1).inner_text() == "أهلًا بك في هيّا نتواصل يا أمينة!"
    assert page.get_by_role("heading", level=2).inner_text() == "ما الخطوات التالية"
    page.screenshot(path=str(reports / "arabic-welcome.png"), full_page=True)
    welcome = mail_to(stack.maildir, email, template="welcome")
    assert "هيّا نتواصل" in str(welcome["Subject"]) and "أمينة" in str(welcome["Subject"])
    tab.go("/clinics")
    assert page.get_by_text("العيادات التعليمية القادمة").is_visible()
    assert page.locator(".slot time").first.inner_text().startswith(("الأحد", "الاثنين", "الثلاثاء", "الأربعاء",
                                                                    "الخميس", "الجمعة", "السبت"))
    page.screenshot(path=str(reports / "arabic-clinics.png"), full_page=True)
    assert tab.foreign_loads() == []


def test_an_arabic_speaker_signs_in_and_books_a_seat_from_the_invitation_right_to_left(visit, stack, reports):
    """Her pages open in her first language once she signs in; the invitation's link books a seat with
    interpretation, in Arabic and laid out right to left."""
    from tests.browser.conftest import links_in_mail, register_by_api
    from tests.browser.test_account_journeys import sign_in_by_email
    from tests.browser.test_answer_journeys import CLINIC_TOPIC, a_clinic

    clinic = a_clinic(stack, seats=4)
    person = register_by_api(stack, "Nour", CLINIC_TOPIC, "learn", languages=("ar", "en"), region="mena",
                             timezone_name="Asia/Amman")
    tab = visit(timezone_id="Asia/Amman", locale="en-GB")  # an English browser
    page = tab.page
    sign_in_by_email(tab, stack, person["email"])
    html = page.locator("html")
    assert html.get_attribute("lang") == "ar" and html.get_attribute("dir") == "rtl"
    assert page.locator("#notice").inner_text() == "لقد سجّلت الدخول."
    assert page.get_by_role("heading", level=2, name="عياداتي التعليمية").is_visible()
    page.screenshot(path=str(reports / "arabic-my-page.png"), full_page=True)
    link = links_in_mail(stack.maildir, person["email"], f"/clinics/{clinic['id']}", scope="clinic.register")[0]
    tab.go(link)
    page.get_by_label("الترجمة الفورية (اختياري)").select_option("ar")
    submit(page, page.get_by_role("button", name="احجز مقعدي"))
    assert page.locator("#my-seat .status").inner_text() == "مقعدك مؤكَّد."
    assert html.get_attribute("dir") == "rtl"
    # right to left: the booking section's heading starts at the right edge of the page's content
    heading, main = page.locator("#seat-title").bounding_box(), page.locator("main").bounding_box()
    assert heading["x"] + heading["width"] > main["x"] + main["width"] * 0.6
    page.screenshot(path=str(reports / "arabic-clinic-seat.png"), full_page=True)
    tab.go("/me")
    assert page.locator("#my-seats").get_by_text("المقعد مؤكَّد").is_visible()
    assert tab.foreign_loads() == []
