"""The demo bureaus' policy pages (how to apply for 最低生活保障, 特困人员救助供养, 临时救助), written
as an administrator would in the editor, and their public telephone numbers (made up, in the
area code of 赣州); a page or a number that exists already is left alone."""
from sqlalchemy import select

from portal.extensions import db
from portal.public.models import PolicyPage
from portal.public.policy import save_policy_page
from portal.tenancy.scope import tenant_scope

PHONES = {"ganxian": "0797-4441234", "zhanggong": "0797-8212349"}
PAGES = {
    "dibao": ("最低生活保障（低保）申请指南", """
<h2>谁可以申请</h2>
<p>持有本县（区）户籍，共同生活的家庭成员人均收入低于当地最低生活保障标准，且家庭财产状况符合规定的家庭。</p>
<h2>怎样申请</h2>
<ol>
<li>由共同生活的家庭成员向户籍所在地乡镇人民政府（街道办事处）提出书面申请，也可委托村（居）民委员会代为提出。</li>
<li>如实填写家庭成员、收入和财产情况，并签署家庭经济状况核查授权书。</li>
<li>乡镇（街道）组织入户调查、邻里访问，并在村（居）务公开栏公示调查结果。</li>
<li>县级民政部门审核确认，符合条件的自批准之日的下月起发放低保金。</li>
</ol>
<h2>需要准备的材料</h2>
<ul><li>户口簿、身份证</li><li>收入证明或情况说明</li><li>残疾、疾病等相关证明（如有）</li></ul>
<p>咨询：请到户籍所在地乡镇人民政府（街道办事处）社会救助窗口，或拨打县（区）民政局社会救助股电话【咨询电话】。</p>
"""),
    "tekun": ("特困人员救助供养申请指南", """
<h2>谁可以申请</h2>
<p>同时具备以下条件的老年人、残疾人和未满十六周岁的未成年人：<strong>无劳动能力</strong>、<strong>无生活来源</strong>、
无法定赡养抚养扶养义务人或者其法定义务人无履行义务能力。</p>
<h2>怎样申请</h2>
<ol>
<li>本人向户籍所在地乡镇人民政府（街道办事处）提出书面申请；本人申请有困难的，可委托村（居）民委员会或他人代为提出。</li>
<li>乡镇（街道）调查核实，并在申请人所在村（社区）公示。</li>
<li>县级民政部门审核确认，对生活自理能力进行评估，确定分散供养或集中供养。</li>
</ol>
<h2>供养内容</h2>
<ul><li>基本生活条件</li><li>对生活不能自理的给予照料（本平台所购买的上门照料护理服务）</li>
<li>疾病治疗</li><li>办理丧葬事宜</li></ul>
"""),
    "linshi": ("临时救助申请指南", """
<h2>谁可以申请</h2>
<p>因火灾、交通事故、突发重大疾病等意外事件，或因生活必需支出突然增加，导致基本生活暂时出现严重困难的家庭或个人。</p>
<h2>怎样申请</h2>
<ol>
<li>向户籍所在地或经常居住地的乡镇人民政府（街道办事处）提出申请。</li>
<li>情况紧急的，可先行救助，再补齐审核审批手续。</li>
<li>乡镇（街道）审核后报县级民政部门审批，一般在规定时限内办结。</li>
</ol>
<table>
<caption>救助方式</caption>
<thead><tr><th scope="col">方式</th><th scope="col">说明</th></tr></thead>
<tbody><tr><td>发放救助金</td><td>一般直接打入申请人银行账户</td></tr>
<tr><td>实物救助</td><td>发放衣被、食品、饮用水等</td></tr>
<tr><td>转介服务</td><td>转介至医疗、教育等其他救助</td></tr></tbody>
</table>
"""),
}


def seed_policy_pages(tenants):
    """Write the missing policy pages of every demo bureau; returns how many were created."""
    created = 0
    for code, tenant in tenants.items():
        if code in PHONES and not (tenant.settings or {}).get("public_phone"):
            tenant.settings = {**(tenant.settings or {}), "public_phone": PHONES[code]}
            created += 1
        with tenant_scope(tenant.id):
            existing = set(db.session.execute(select(PolicyPage.slug)).scalars())
            for slug, (title, body) in PAGES.items():
                if slug not in existing:
                    save_policy_page(slug, title, body, user=None)
                    created += 1
    return created
